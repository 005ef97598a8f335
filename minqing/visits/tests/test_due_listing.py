"""The due list's rows written in Python say what the template loop they replace said."""

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from minqing.visits.listing import due_rows_html, grid_rows_html

# The loop visits/due.html had before visits.listing wrote its rows (its `days_before` filter,
# gone with it, is `days_late` on the test's rows).
TEMPLATE_LOOP = """{% load i18n visits_tags %}{% for s in page %}
  <li class="{% if s.next_due < today %}late{% elif s.next_due == today %}due{% endif %}">
    <span><a class="who" href="/households/{{ s.household.pk }}/">{% blocktranslate with head=s.household.head_name|default:_("（无户主）") %}{{ head }}户{% endblocktranslate %}</a>
      {% if s.visit_class %}<span class="tag small">{{ s.visit_class.name }}</span>{% endif %}</span>
    <a class="button primary small" href="/visits/new/?household={{ s.household.pk }}">{% translate "记录走访" %}</a>
    <span class="where">{{ s.household.address }}{% if s.distance_m is not None %} · {% blocktranslate with m=s.distance_m %}约 {{ m }} 米{% endblocktranslate %}{% endif %}<br>
      {% translate "应访" %} {{ s.next_due|date:"Y-m-d" }}{% if s.next_due < today %} · <b class="lateness-late">{% blocktranslate with days=s.days_late %}逾期 {{ days }} 天{% endblocktranslate %}</b>{% elif s.next_due == today %} · <b class="lateness-due">{% translate "今日" %}</b>{% endif %}
      · {% translate "上次走访" %} {% if s.last_visit_at %}{{ s.last_visit_at|date:"Y-m-d" }}{% else %}{% translate "从未走访" %}{% endif %}</span>
  </li>
{% empty %}
  <li class="muted">{% translate "没有应访的家庭。" %}</li>
{% endfor %}"""  # noqa: E501

TODAY = dt.date(2026, 11, 27)


def state(pk, head, address, next_due, last, visit_class="重点必访", distance=None):
    s = SimpleNamespace(
        household=SimpleNamespace(pk=pk, head_name=head, address=address),
        visit_class=SimpleNamespace(name=visit_class) if visit_class else None,
        next_due=next_due,
        last_visit_at=last,
    )
    if distance is not None:
        s.distance_m = distance
    s.days_late = (TODAY - next_due).days
    return s


ROWS = [
    state(1, "张三", "人民路1号", TODAY - dt.timedelta(days=12), None),
    # 23:30 UTC is the next morning in Shanghai: the day shown is the local one.
    state(2, "", "解放路<2>号 & 3", TODAY, dt.datetime(2026, 8, 1, 23, 30, tzinfo=dt.UTC)),
    state(3, "李<b>四</b>", "青年路5号", TODAY + dt.timedelta(days=3), None, None, distance=0),
    state(4, "王五", "建设路8号", TODAY - dt.timedelta(days=1), timezone.now(), distance=1234),
]


def words(html: str) -> list[str]:
    """The page as a reader sees it: tags and text, whitespace between them ignored."""
    return [part for part in re.split(r"\s*(<[^>]+>)\s*", html) if part.strip()]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("rows", [ROWS, []], ids=["rows", "empty"])
def test_python_rows_read_as_the_template_did(language, rows):
    with translation.override(language):
        expected = Template(TEMPLATE_LOOP).render(Context({"page": rows, "today": TODAY}))
        written = due_rows_html(rows, TODAY)
    assert words(written) == words(expected)


def test_values_are_escaped_and_the_day_is_local():
    with translation.override("zh-hans"):
        html = due_rows_html(ROWS, TODAY)
    assert "李&lt;b&gt;四&lt;/b&gt;户" in html and "解放路&lt;2&gt;号 &amp; 3" in html
    assert "（无户主）户" in html and "上次走访 2026-08-02" in html
    assert '<b class="lateness-late">逾期 12 天</b>' in html and "约 0 米" in html


# The loop visits/due_grids.html had before visits.listing wrote its rows.
GRID_LOOP = """{% load i18n %}{% for r in rows %}
    <tr{% if r.overdue %} class="late"{% endif %}>
      <td data-label="{% translate "网格" %}"><a href="/visits/due/?grid={{ r.grid.code }}">{{ r.grid.name }}</a></td>
      <td data-label="{% translate "逾期未访" %}">{% if r.overdue %}<b class="lateness-late">{{ r.overdue }}</b>{% else %}0{% endif %}</td>
      <td data-label="{% translate "今日应访" %}">{{ r.today }}</td>
      <td data-label="{% translate "7天内应访" %}"><a href="/visits/due/?grid={{ r.grid.code }}&amp;within=7">{{ r.soon }}</a></td>
    </tr>
  {% empty %}
    <tr><td colspan="4" class="muted">{% translate "近期没有应访的家庭。" %}</td></tr>
  {% endfor %}"""  # noqa: E501

GRIDS = [
    SimpleNamespace(
        grid=SimpleNamespace(code="330188001001001", name="第一网格"), overdue=3, today=0, soon=7
    ),
    SimpleNamespace(
        grid=SimpleNamespace(code="330188001001002", name="<二>&网格"), overdue=0, today=2, soon=0
    ),
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("rows", [GRIDS, []], ids=["rows", "empty"])
def test_python_grid_rows_read_as_the_template_did(language, rows):
    with translation.override(language):
        expected = Template(GRID_LOOP).render(Context({"rows": rows}))
        written = grid_rows_html(rows)
    assert words(written) == words(expected)
    assert ("&lt;二&gt;&amp;网格" in written) == bool(rows)
