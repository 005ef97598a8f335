from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "minqing.core"
    verbose_name = _("基础")

    def ready(self) -> None:
        # Connects the signals that drop the cached working-day calendar when an override changes.
        from minqing.core import choice_ids, key_check, lookups, workdays  # noqa: F401

        choice_ids.install()  # an id beyond the key column's range is an invalid choice, not a 500
        lookups.install()  # field__any_ids (accounts.access.scope_q), id__any_of
        _configuration_read_now()


def _configuration_read_now() -> None:
    """Settings that used to fail at first use fail at start-up (a server that answers /healthz
    but 500 on every page, a sweep that logs a traceback per SMS): the encryption keys' form,
    and the SMS sender's class."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.utils.module_loading import import_string

    from minqing.core import crypto

    crypto.data_keys.cache_clear()
    crypto.index_key.cache_clear()
    crypto.data_keys()
    crypto.index_key()
    try:
        import_string(settings.MINQING_SMS_BACKEND)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"SMS_BACKEND={settings.MINQING_SMS_BACKEND!r} cannot be imported: {exc}"
        ) from None
