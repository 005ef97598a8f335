"""The notification page's list: a page of ids sorted first, its rows read as values and written
in Python.

Read as model instances joined to their cases (PostgreSQL joined every notification of the
user to its case before sorting) and written by the template engine cell by cell, a page of 20
notifications took 29 ms in-process on the benchmark VM — more than twice a whole case list.
Here the page's ids are sorted from the notifications alone, the page's rows are read by id as
tuples, and each row's HTML is one format string with every value escaped, as `cases.listing`
writes the case lists. The table's head, its empty row and the pager stay in the template.
"""

from html import escape

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Count
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from minqing.cases.models import Notification, NotificationKind
from minqing.cases.texts import shown
from minqing.core import statements

COLUMNS = (
    "id",
    "kind",
    "message",
    "message_key",
    "message_args",
    "created_at",
    "read_at",
    "case__number",
)
WARN_KINDS = frozenset(
    {NotificationKind.OVERDUE, NotificationKind.REMINDER, NotificationKind.SUPERVISED}
)


def ordered(user) -> models.QuerySet:
    """The user's notifications, unread first, then newest first."""
    return (
        Notification.objects.filter(user=user)
        .annotate(
            read_rank=models.Case(
                models.When(read_at__isnull=True, then=models.Value(0)),
                default=models.Value(1),
            )
        )
        .order_by("read_rank", "-created_at", "-id")
    )


def page_of(request, user) -> Page:
    """The requested page (`?page=`, out of range: the last) with its rows as tuples of
    COLUMNS. Its three statements are compiled once per user, page and ids (`core.statements`:
    the ORM took longer to build them than the database to run them)."""
    uid = user.pk
    counted = statements.rows(
        ("notifications.count", uid),
        lambda: (
            Notification.objects.filter(user_id=uid)
            .order_by()
            .values("user_id")
            .annotate(n=Count("pk"))
            .values_list("n")
        ),
    )
    count = counted[0][0] if counted else 0  # no notifications: no group
    paginator = Paginator(range(count), settings.PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    bottom = (page.number - 1) * paginator.per_page
    top = bottom + paginator.per_page
    ids = [
        pk
        for (pk,) in statements.rows(
            ("notifications.ids", uid, bottom, top),
            lambda: ordered(user).values_list("pk")[bottom:top],
        )
    ]
    found = {
        row[0]: row
        for row in statements.rows(
            ("notifications.rows", tuple(ids)),
            lambda: Notification.objects.filter(pk__in=ids).order_by().values_list(*COLUMNS),
        )
    }
    page.object_list = [found[pk] for pk in ids if pk in found]  # one deleted meanwhile: gone
    return page


def rows_html(rows, *, csrf_token: str, page_number: int) -> SafeString:
    """The <tr> elements of the notification table, every value escaped."""
    if not rows:
        return mark_safe("")
    l_time, l_kind, l_text, l_action = (
        escape(_("时间")),
        escape(_("类型")),
        escape(_("内容")),
        escape(_("操作")),
    )
    kinds = {key: escape(str(label)) for key, label in NotificationKind.choices}
    token = escape(csrf_token)
    # Translated outside the f-strings: xgettext does not look inside them.
    l_open, l_mark, l_read = escape(_("查看案件")), escape(_("标为已读")), escape(_("已读"))
    open_case = (
        f'          <button type="submit" name="open" value="1" class="primary">{l_open}</button>\n'
    )
    mark_read = f'          <button type="submit" class="link">{l_mark}</button>\n'
    already = f'<span class="muted small">{l_read}</span>'
    out = []
    for pk, kind, message, key, args, created_at, read_at, case_number in rows:
        text = escape(shown(message, key, args))
        if read_at is None:
            text = f"<strong>{text}</strong>"
        if case_number:
            number = escape(case_number)
            text += (
                f'\n        <div class="small"><a class="mono" href="/cases/{number}/">'
                f"{number}</a></div>"
            )
        if read_at is None:
            action = (
                f'<form method="post" action="/notifications/{pk}/read/" class="inline">'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
                f'<input type="hidden" name="page" value="{page_number}">'
                f"\n{open_case if case_number else ''}{mark_read}        </form>"
            )
        else:
            action = already
        warn = " warn" if kind in WARN_KINDS else ""
        unread = "" if read_at else ' class="unread"'
        when = f"{timezone.localtime(created_at):%Y-%m-%d %H:%M}"
        out.append(
            f'    <tr id="n-{pk}"{unread}>\n'
            f'      <td data-label="{l_time}"><time>{when}</time></td>\n'
            f'      <td data-label="{l_kind}"><span class="badge{warn}">'
            f"{kinds.get(kind) or escape(kind)}</span></td>\n"
            f'      <td data-label="{l_text}">{text}</td>\n'
            f'      <td data-label="{l_action}">{action}</td>\n'
            "    </tr>\n"
        )
    return mark_safe("".join(out))
