from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CardsConfig(AppConfig):
    name = "minqing.cards"
    verbose_name = _("联系卡与表单")
