from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "minqing.core"
    verbose_name = _("基础")

    def ready(self) -> None:
        # Connects the signals that drop the cached working-day calendar when an override changes.
        from minqing.core import choice_ids, lookups, workdays  # noqa: F401

        choice_ids.install()  # an id beyond the key column's range is an invalid choice, not a 500
        lookups.install()  # field__any_ids (accounts.access.scope_q), id__any_of
