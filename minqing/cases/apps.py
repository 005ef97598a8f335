from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "minqing.cases"
    verbose_name = "案件"
