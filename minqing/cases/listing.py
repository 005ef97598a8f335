"""The rows of the case lists (inbox, overdue list, all cases): read as values, written in Python.

A list page shows 20 cases. Read as model instances with five related rows each (and two
GeoJSON boundaries parsed per row), and written by the template engine node by node, those 20
rows cost more than everything else on the page together. Here a row is one tuple of the
columns the table shows, and its HTML is one format string per row, every value escaped; the
labels are translated once per table. The table's head, its empty row and the pager stay in
`cases/_table.html`.
"""

from html import escape

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from minqing.cases.models import OPEN_STATUSES, Case, Status
from minqing.core import statements
from minqing.core.paging import CappedPage, capped_page, page_number

# (attribute, lookup) of what a row needs: the table's cells, lateness and remaining time.
COLUMNS = (
    ("pk", "id"),
    ("number", "number"),
    ("priority", "priority"),
    ("title", "title"),
    ("status", "status"),
    ("address", "address"),
    ("deadline", "deadline"),
    ("remind_at", "remind_at"),
    ("closed_at", "closed_at"),
    ("category_name", "category__name"),
    ("grid_name", "grid__name"),
    ("level_node_name", "level_node__name"),
    ("handler_user_id", "handler_user_id"),
    ("handler_full_name", "handler_user__full_name"),
    ("handler_username", "handler_user__username"),
    ("handler_unit_id", "handler_unit_id"),
    ("handler_unit_name", "handler_unit__name"),
    ("extension_pending", "extension_pending"),  # the inbox's 待审批延期
)
_OPEN = frozenset(OPEN_STATUSES)
_STATUS_LABELS = dict(Status.choices)


class Row:
    """One case as a list shows it (what `views._decorate` and the table read)."""

    def __init__(self, names, values):
        self.__dict__.update(zip(names, values, strict=True))

    @property
    def is_open(self) -> bool:
        return self.status in _OPEN

    def get_status_display(self) -> str:
        return str(_STATUS_LABELS.get(self.status, self.status))

    @property
    def handler_text(self) -> str:
        if self.handler_unit_id:
            return self.handler_unit_name
        if self.handler_user_id:
            return self.handler_full_name or self.handler_username
        return self.level_node_name

    def __repr__(self) -> str:
        return f"<Row {self.number}>"


def rows_of(qs, *, extra: tuple[tuple[str, str], ...] = ()) -> list[Row]:
    """The rows of a (sliced) queryset of cases, in its order, in one query.

    extra: more (attribute, lookup) pairs a page needs besides the table's columns.
    """
    columns = COLUMNS + extra
    names = [name for name, _lookup in columns]
    return [Row(names, values) for values in qs.values_list(*(c[1] for c in columns))]


def rows_by_ids(ids: list[int], *, extra: tuple[tuple[str, str], ...] = ()) -> list[Row]:
    """The rows of these cases, in the order of `ids` (one query by primary key).

    A page's rows are read by their ids: for twenty ids both databases look each row and its
    five related rows up by key, where a query that also filters and sorts may be planned as
    hash joins over the whole node and user tables.
    """
    if not ids:
        return []
    columns = COLUMNS + extra
    names = [name for name, _lookup in columns]

    def build():
        cases = Case.objects.filter(pk__in=ids).order_by()  # put in order here, not there
        return cases.values_list(*(c[1] for c in columns))

    # Compiled once per page of ids (a list reloaded unchanged reads the same ids).
    found = statements.rows(("cases.rows_by_ids", tuple(ids), extra), build)
    by_pk = {row.pk: row for row in (Row(names, values) for values in found)}
    return [by_pk[pk] for pk in ids if pk in by_pk]  # a case deleted meanwhile is left out


def page_of_ids(request, qs, *, head: list[int], count: int) -> Page:
    """Page `page` of a list (`count` cases in all) as rows, its first ids `head` already known.

    A page within `head` is cut from it; a later one asks qs — the list's queryset, or a
    function that builds it (built only then: building a query costs as much as running it).
    """
    paginator = Paginator(range(count), settings.PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    bottom = (page.number - 1) * paginator.per_page
    top = min(bottom + paginator.per_page, count)
    if top <= len(head):
        ids = head[bottom:top]
    else:
        qs = qs() if callable(qs) else qs
        ids = list(qs.values_list("pk", flat=True)[bottom:top])
    page.object_list = rows_by_ids(ids)
    return page


def page_of_rows(request, qs) -> CappedPage:
    """Page `page` of qs as rows, read with the page's query (the list of all cases), its total
    counted up to COUNT_CAP (超过1000条), as the people lists do: an exact count of a county's
    500 000 cases took 135 ms of a 160 ms page, and a street's 325 ms."""
    return capped_page(
        qs,
        page_number(request.GET.get("page")),
        settings.PAGE_SIZE,
        clamp=True,
        read=lambda qs, start, stop: rows_of(qs[start:stop]),
    )


def rows_html(rows, *, show_waiting: bool = False) -> SafeString:
    """The <tr> elements of the case table (cases/_table.html), every value escaped."""
    if not rows:
        return mark_safe("")
    l_case, l_category, l_status = escape(_("案件")), escape(_("类别")), escape(_("状态"))
    l_place, l_deadline = escape(_("网格 / 地点")), escape(_("本环节时限"))
    l_urgent = escape(_("紧急"))  # outside the f-string: xgettext does not look inside one
    urgent = f' <span class="badge warn">{l_urgent}</span>'
    closed_at = _("%(at)s 结案")
    labels: dict = {}  # status or waiting key -> escaped text, translated once per table

    def label(key, value) -> str:
        text = labels.get(key)
        if text is None:
            text = labels[key] = escape(str(value() if callable(value) else value))
        return text

    out = []
    for c in rows:
        number = escape(c.number)
        waiting = (
            f' <span class="tag small">{label(("w", c.waiting_key), c.waiting_label)}</span>'
            if show_waiting and c.waiting_label
            else ""
        )
        address = f'<span class="line muted small">{escape(c.address)}</span>' if c.address else ""
        if c.deadline and c.is_open:
            local = timezone.localtime(c.deadline)
            when = (
                f'<time datetime="{local.isoformat()}">{local:%m-%d %H:%M}</time>'
                f'<span class="line lateness-{escape(c.lateness)}">'
                f"{escape(str(c.remaining or ''))}</span>"
            )
        elif c.closed_at:
            text = closed_at % {"at": f"{timezone.localtime(c.closed_at):%m-%d %H:%M}"}
            when = f'<span class="muted">{escape(text)}</span>'
        else:
            when = "—"
        out.append(
            f'    <tr class="{escape(c.lateness)}">\n'
            f'      <td data-label="{l_case}"><div><a href="/cases/{number}/" class="mono">'
            f"{number}</a>{urgent if c.priority == 'urgent' else ''}"
            f'<span class="line">{escape(c.title)}</span></div></td>\n'
            f'      <td data-label="{l_category}"><div>{escape(c.category_name or "")}</div></td>\n'
            f'      <td data-label="{l_status}"><div>{label(("s", c.status), c.get_status_display)}{waiting}'
            f'<span class="line muted small">{escape(c.handler_text or "")}</span></div></td>\n'
            f'      <td data-label="{l_place}"><div>{escape(c.grid_name or "")}{address}</div></td>\n'
            f'      <td data-label="{l_deadline}"><div>{when}</div></td>\n'
            "    </tr>\n"
        )
    return mark_safe("".join(out))
