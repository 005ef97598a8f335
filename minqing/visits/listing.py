"""The rows of the due lists (visits/due.html, visits/due_grids.html), written in Python.

A grid worker opens the list of their households many times a day, on a phone, and an office
the counts of its dozens of grids. As template tags each row cost translations, date filters,
number formats and comparisons — most of the pages' time; here the words are translated once
per list and each row is one format string, every value escaped.
"""

import datetime as dt

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext


def _day(value) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value:%Y-%m-%d}"


def due_rows_html(rows, today: dt.date) -> SafeString:
    """The <li> of each due household state in `rows` (with `.household`, `.visit_class`,
    `.next_due`, `.last_visit_at`, and `.distance_m` when sorted by distance)."""
    if not rows:
        empty = escape(
            gettext("没有应访的家庭。")
        )  # not inside the f-string: makemessages skips those
        return mark_safe(f'  <li class="muted">{empty}</li>\n')
    t_household, t_no_head = gettext("%(head)s户"), gettext("（无户主）")
    t_record, t_due = escape(gettext("记录走访")), escape(gettext("应访"))
    t_about, t_overdue = gettext("约 %(m)s 米"), gettext("逾期 %(days)s 天")
    t_today, t_last = escape(gettext("今日")), escape(gettext("上次走访"))
    t_never = escape(gettext("从未走访"))
    out = []
    for s in rows:
        h = s.household
        who = t_household % {"head": escape(h.head_name or t_no_head)}
        tag = (
            f' <span class="tag small">{escape(s.visit_class.name)}</span>' if s.visit_class else ""
        )
        distance = getattr(s, "distance_m", None)
        near = " · " + t_about % {"m": distance} if distance is not None else ""
        if s.next_due < today:
            state = "late"
            days = t_overdue % {"days": (today - s.next_due).days}
            lateness = f' · <b class="lateness-late">{days}</b>'
        elif s.next_due == today:
            state, lateness = "due", f' · <b class="lateness-due">{t_today}</b>'
        else:
            state, lateness = "", ""
        last = _day(s.last_visit_at) if s.last_visit_at else t_never
        out.append(
            f'  <li class="{state}">\n'
            f'    <span><a class="who" href="/households/{h.pk}/">{who}</a>{tag}</span>\n'
            f'    <a class="button primary small" href="/visits/new/?household={h.pk}">'
            f"{t_record}</a>\n"
            f'    <span class="where">{escape(h.address)}{near}<br>\n'
            f"      {t_due} {_day(s.next_due)}{lateness}\n"
            f"      · {t_last} {last}</span>\n"
            "  </li>\n"
        )
    return mark_safe("".join(out))


def grid_rows_html(rows) -> SafeString:
    """The <tr> of each grid's counts (visits.selectors.GridDue) on an office's due page."""
    if not rows:
        empty = escape(gettext("近期没有应访的家庭。"))
        return mark_safe(f'    <tr><td colspan="4" class="muted">{empty}</td></tr>\n')
    l_grid, l_overdue = escape(gettext("网格")), escape(gettext("逾期未访"))
    l_today, l_soon = escape(gettext("今日应访")), escape(gettext("7天内应访"))
    out = []
    for r in rows:
        code = escape(r.grid.code)
        late = ' class="late"' if r.overdue else ""
        overdue = f'<b class="lateness-late">{r.overdue}</b>' if r.overdue else "0"
        out.append(
            f"    <tr{late}>\n"
            f'      <td data-label="{l_grid}"><a href="/visits/due/?grid={code}">'
            f"{escape(r.grid.name)}</a></td>\n"
            f'      <td data-label="{l_overdue}">{overdue}</td>\n'
            f'      <td data-label="{l_today}">{r.today}</td>\n'
            f'      <td data-label="{l_soon}"><a href="/visits/due/?grid={code}&amp;within=7">'
            f"{r.soon}</a></td>\n"
            "    </tr>\n"
        )
    return mark_safe("".join(out))
