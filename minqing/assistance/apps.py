from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    name = "minqing.assistance"
    verbose_name = "结对帮扶"
