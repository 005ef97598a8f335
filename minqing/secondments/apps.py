from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecondmentsConfig(AppConfig):
    name = "minqing.secondments"
    verbose_name = _("组团派驻")
