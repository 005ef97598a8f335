from django.apps import AppConfig


class SecondmentsConfig(AppConfig):
    name = "minqing.secondments"
    verbose_name = "组团派驻"
