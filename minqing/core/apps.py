from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "minqing.core"
    verbose_name = _("基础")

    def ready(self) -> None:
        # Connects the signals that drop the cached working-day calendar when an override changes.
        from minqing.core import workdays  # noqa: F401
        from minqing.core.choice_ids import install

        install()  # an id beyond the key column's range is an invalid choice, not a 500
