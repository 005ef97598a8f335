from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "minqing.cards"
    verbose_name = "联系卡与表单"
