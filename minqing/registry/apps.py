from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "minqing.registry"
    verbose_name = "民情档案"
