"""Next year's holidays read from the State Council's notice (国务院办公厅关于XXXX年部分节假日安排的通知).

Every winter the notice comes out weeks before a chinese-calendar release knows the year, and
until then every time limit that runs into January counts 元旦 and 春节 as working days. The
notice has kept one form for years: a numbered line per holiday, "名称：日期（星期）至日期
放假调休，共N天。日期（星期）、日期（星期）上班。" An administrator pastes it; this module reads
it into days off and make-up working days (WorkdayOverride rows), and says which lines it
could not read rather than guess.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from minqing.core.models import WorkdayOverride

# "一、春节：" — the holiday a line is about.
_HEADING = re.compile(r"^\s*[一二三四五六七八九十]+\s*[、.．]\s*([^：:]{1,20})[：:]\s*(.*)$")
# A date: "2027年1月1日", "1月1日", or after 至 in the same month "3日".
_DATE = r"(?:(?P<{p}y>\d{{4}})\s*年\s*)?(?:(?P<{p}m>\d{{1,2}})\s*月\s*)?(?P<{p}d>\d{{1,2}})\s*日"
_RANGE = re.compile(_DATE.format(p="a") + r"(?:\s*[至到—\-~～]\s*" + _DATE.format(p="b") + ")?")
_ASIDE = re.compile(r"[（(][^）)]*[）)]")  # (星期日), (农历除夕、周二)
_OFF_WORDS = ("放假", "补休", "休息", "休假")
_WORK_WORDS = ("上班",)


@dataclass
class Day:
    date: dt.date
    is_working_day: bool
    name: str


@dataclass
class Notice:
    """What was read: the days, in date order, and the lines that could not be read."""

    year: int
    days: list[Day] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _dates(sentence: str, year: int, line: str, problems: list[str]) -> list[dt.date] | None:
    """Every day a sentence names (ranges spelled out), or None if one does not exist."""
    out: list[dt.date] = []
    month = None
    for m in _RANGE.finditer(sentence):
        try:
            y = int(m["ay"] or year)
            month = int(m["am"] or month or 0)
            start = dt.date(y, month, int(m["ad"]))
            end = start
            if m["bd"]:
                end = dt.date(int(m["by"] or y), int(m["bm"] or month), int(m["bd"]))
                if m["bm"]:
                    month = int(m["bm"])
        except ValueError:
            problems.append(_("“%(line)s”：日期“%(text)s”不存在。") % {"line": line, "text": m[0]})
            return None
        if end < start or (end - start).days > 31:
            problems.append(
                _("“%(line)s”：日期范围“%(text)s”不对。") % {"line": line, "text": m[0]}
            )
            return None
        out.extend(start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    return out


def parse_notice(text: str, year: int) -> Notice:
    """The days off and make-up working days of the notice `text` for `year`."""
    notice = Notice(year=year)
    found: dict[dt.date, Day] = {}
    for raw in (text or "").splitlines():
        line = raw.strip()
        heading = _HEADING.match(line)
        if not heading:
            continue  # the title, the greeting, the closing paragraph, the date
        holiday, rest = heading[1].strip(), _ASIDE.sub("", heading[2])
        name = f"{year}年{holiday}"
        read_any = False
        for sentence in re.split(r"[。；;]", rest):
            working = any(w in sentence for w in _WORK_WORDS)
            off = any(w in sentence for w in _OFF_WORDS)
            if not (working or off) or "不调休" == sentence.strip("，, "):
                continue
            if working and off:
                notice.problems.append(
                    _("“%(line)s”：一句中既有放假又有上班，请分成两句。") % {"line": line}
                )
                read_any = True
                continue
            dates = _dates(sentence, year, line, notice.problems)
            if dates is None:
                read_any = True
                continue
            for d in dates:
                before = found.get(d)
                if before is not None and before.is_working_day != working:
                    notice.problems.append(
                        _("“%(line)s”：%(date)s 既放假又上班。") % {"line": line, "date": d}
                    )
                    continue
                found[d] = Day(d, working, name)
                read_any = True
        if not read_any:
            notice.problems.append(_("“%(line)s”：没有读出日期。") % {"line": line})
    far = [d for d in found if abs(d.year - year) > 1]
    for d in far:
        notice.problems.append(_("%(date)s 不在 %(year)s 年前后。") % {"date": d, "year": year})
        del found[d]
    notice.days = sorted(found.values(), key=lambda day: day.date)
    if not notice.days and not notice.problems:
        notice.problems.append(
            _("没有读出任何放假或上班的日期：请粘贴通知中“一、元旦：……”起的各条。")
        )
    return notice


@transaction.atomic
def apply_notice(notice: Notice) -> list[tuple[WorkdayOverride, dict | None]]:
    """Write the notice's days into WorkdayOverride (an existing row for the day is replaced):
    each row written, with what it held before (None: new). Pasting the same notice again
    writes nothing."""
    written = []
    existing = {
        o.date: o
        for o in WorkdayOverride.objects.select_for_update().filter(
            date__in=[d.date for d in notice.days]
        )
    }
    for day in notice.days:
        row = existing.get(day.date)
        if row is None:
            row = WorkdayOverride.objects.create(
                date=day.date, is_working_day=day.is_working_day, name=day.name
            )
            written.append((row, None))
        elif (row.is_working_day, row.name) != (day.is_working_day, day.name):
            before = {"is_working_day": row.is_working_day, "name": row.name}
            row.is_working_day, row.name = day.is_working_day, day.name
            row.save(update_fields=["is_working_day", "name"])
            written.append((row, before))
    return written


def counts(written) -> tuple[int, int]:
    """(created, updated) of what apply_notice wrote."""
    created = sum(1 for _row, before in written if before is None)
    return created, len(written) - created
