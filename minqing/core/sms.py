"""Text messages to staff phones, behind one small interface.

Intranets differ in how SMS goes out (an operator gateway, a government messaging platform), so
minqing only calls `send_sms`; the backend is a dotted path in MINQING_SMS_BACKEND. The default
writes to the log, which is what a deployment without a gateway wants.
"""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("minqing.sms")


class LoggingSmsBackend:
    """Writes each message to the `minqing.sms` logger instead of sending it."""

    sent: list[tuple[str, str]] = []  # kept for tests and for a glance in a shell

    def send(self, mobile: str, text: str) -> None:
        self.sent.append((mobile, text))
        del self.sent[:-200]
        logger.info("SMS to %s: %s", mobile[:3] + "****" + mobile[-4:], text)


def get_backend():
    path = getattr(settings, "MINQING_SMS_BACKEND", "minqing.core.sms.LoggingSmsBackend")
    return import_string(path)()


def send_sms(mobile: str, text: str) -> None:
    """Send and never raise: a failed SMS must not undo the work it reports."""
    if not mobile:
        return
    try:
        get_backend().send(mobile, text)
    except Exception:
        logger.exception("SMS to %s failed", mobile[-4:])
