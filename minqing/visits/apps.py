from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "minqing.visits"
    verbose_name = "走访"
