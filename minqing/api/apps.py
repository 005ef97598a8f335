from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "minqing.api"
    verbose_name = "API"
