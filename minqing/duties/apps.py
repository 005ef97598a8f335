from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DutiesConfig(AppConfig):
    name = "minqing.duties"
    verbose_name = _("干部直接联系群众")
