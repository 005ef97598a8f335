"""What minqing itself writes into a case's log and into notifications, in the reader's language.

A reminder, an escalation or a dispatch notice is stored as Chinese text (what the SMS carries,
what the admin and the audit show) and, beside it, as a key into TEXTS and its arguments. A
page or the API renders it again from the key in the reader's language (`shown`); a row
written before keys were stored (or with a key this version no longer knows) shows its text.

Arguments are plain JSON: a case number, a title, a place's name, a user's note, a number of
days; a time as an ISO string (shown in local time, in the reader's format); a choice's code
(shown as its label in the reader's language).
"""

from datetime import datetime
from typing import NamedTuple

from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from minqing.core.i18n import source_choices

from .models import Satisfaction, Stage

TEXTS = {
    # notifications
    "accepted": gettext_noop("新受理群众反映 %(number)s：%(title)s"),
    "dispatched": gettext_noop(
        "您有新派遣的案件 %(number)s：%(title)s，请在 %(deadline)s 前处置。"
    ),
    "transferred": gettext_noop(
        "%(unit)s收到转办案件 %(number)s：%(title)s，请在 %(deadline)s 前处置。"
    ),
    "declined": gettext_noop("案件 %(number)s 被退单，请重新派遣。"),
    "recalled": gettext_noop("案件 %(number)s 已被收回，不再由您处置：%(note)s"),
    "reassigned": gettext_noop(
        "案件 %(number)s（%(title)s）已改派给您，请在 %(deadline)s 前处置。"
    ),
    "reassigned_away": gettext_noop("案件 %(number)s 已改派他人，不再由您处置：%(note)s"),
    "fed_back": gettext_noop("案件 %(number)s 已处置反馈，请核查。"),
    "reworked": gettext_noop("案件 %(number)s 核查未通过，已退回重新处置。"),
    "escalated": gettext_noop("案件 %(number)s（%(title)s）已上报至%(node)s，请处理。"),
    "located": gettext_noop("案件 %(number)s（%(title)s）已指定到%(node)s，请处理。"),
    "extension_asked": gettext_noop("案件 %(number)s 申请延期 %(days)s 个工作日，请审批。"),
    "extension_granted": gettext_noop("案件 %(number)s 的延期申请已批准。"),
    "extension_refused": gettext_noop("案件 %(number)s 的延期申请未批准。"),
    "supervised": gettext_noop("案件 %(number)s 被督办：%(note)s"),
    "reopened": gettext_noop("案件 %(number)s 群众不满意，已重新办理。"),
    "reminder": gettext_noop("催办：案件 %(number)s（%(title)s）将于 %(deadline)s 到期。"),
    "overdue": gettext_noop("案件 %(number)s（%(title)s）已超期，请尽快办理。"),
    "extension_lapsed": gettext_noop(
        "案件 %(number)s 已超期自动上报至%(node)s，您的延期申请随之失效；仍需延期的，请重新申请。"
    ),
    # the case's log
    "log_zoning": gettext_noop("位于禁建区，已标记并提升为紧急。"),
    "log_extension_asked": gettext_noop("申请延期 %(days)s 个工作日：%(note)s"),
    "log_extension_granted": gettext_noop(
        "同意延期 %(days)s 个工作日，新时限 %(deadline)s。%(note)s"
    ),
    "log_extension_refused": gettext_noop("不同意延期。%(note)s"),
    "log_rated": gettext_noop("评价：%(satisfaction)s。%(note)s"),
    "log_reminder": gettext_noop("已用时限的 80%%，系统催办。"),
    "log_overdue": gettext_noop("已超过%(stage)s时限 %(deadline)s。"),
    "log_escalated": gettext_noop("超期未办结，自动上报至%(node)s。"),
    "log_escalated_lapsed": gettext_noop(
        "超期未办结，自动上报至%(node)s；待审批的延期申请随之失效。"
    ),
    "log_located": gettext_noop("指定到%(node)s。%(note)s"),
}

# Arguments that hold a choice's code, shown as its label.
CHOICES = {"stage": Stage, "satisfaction": Satisfaction}
# Arguments that hold a time.
TIMES = frozenset({"deadline"})
TIME_FORMAT = gettext_noop("%m月%d日 %H:%M")

# An extension request still pending when its case leaves the handler (its decision note).
EXTENSION_LAPSED = gettext_noop("案件已离开处置环节，延期申请自动失效。")
# … or when the sweeper moves its late case up: the handler keeps it and may ask again.
EXTENSION_ESCALATED = gettext_noop("案件超期自动上报，延期申请自动失效，可重新申请。")


class Said(NamedTuple):
    """A text minqing says: its key and arguments, and the Chinese that is stored and sent."""

    key: str
    args: dict
    text: str


def say(key: str, **args) -> Said:
    if key not in TEXTS:
        raise KeyError(f"no text {key!r}")
    stored = {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in args.items()
    }
    return Said(key, stored, _render(key, stored, translate=False))


def shown(text: str, key: str, args) -> str:
    """The text in the active language: rendered from key and args, else the stored text."""
    if not key or key not in TEXTS:
        return text
    try:
        return _render(key, args or {}, translate=True)
    except (KeyError, TypeError, ValueError):
        return text  # arguments that do not fit this version's text


def extension_decision(note: str) -> str:
    """An extension request's decision note, the lapsed one in the active language."""
    return gettext(note) if note in (EXTENSION_LAPSED, EXTENSION_ESCALATED) else note


def _render(key: str, args: dict, *, translate: bool) -> str:
    tr = gettext if translate else str
    values = {}
    for name, value in args.items():
        if name in TIMES and value:
            when = timezone.localtime(datetime.fromisoformat(value))
            value = when.strftime(tr(TIME_FORMAT))
        elif name in CHOICES:
            labels = dict(CHOICES[name].choices) if translate else source_choices(CHOICES[name])
            value = str(labels.get(value, value))
        values[name] = "" if value is None else value
    return (tr(TEXTS[key]) % values).strip()
