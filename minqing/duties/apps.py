from django.apps import AppConfig


class DutiesConfig(AppConfig):
    name = "minqing.duties"
    verbose_name = "干部直接联系群众"
