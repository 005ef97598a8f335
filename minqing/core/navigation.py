"""The main menu in every page's header, written in Python.

Every signed-in page draws the same fourteen links, each asking "is this the section I am
in?". As template tags that was a translation lookup and a sliced-path comparison per link,
a sizeable share of a list page's time; here the labels are translated once per language
and a page only compares its path with a few prefixes.
"""

from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, gettext_noop

# (link, label, path prefixes that make it the current section, prefixes that do not).
# "/" is current on the home page alone.
MENU = (
    ("/", gettext_noop("首页"), (), ()),
    ("/tree/", gettext_noop("区划网格"), ("/tree/",), ()),
    ("/households/", gettext_noop("家庭户"), ("/households/",), ()),
    ("/people/", gettext_noop("人员"), ("/people/",), ()),
    ("/places/", gettext_noop("场所"), ("/places/",), ()),
    ("/orgs/", gettext_noop("组织"), ("/orgs/",), ()),
    ("/visits/due/", gettext_noop("走访"), ("/visits/",), ()),
    ("/assistance/", gettext_noop("帮扶"), ("/assistance/", "/secondments/"), ()),
    ("/duties/", gettext_noop("联系群众"), ("/duties/",), ()),
    ("/cases/inbox/", gettext_noop("案件"), ("/cases/",), ("/cases/stats/",)),
    ("/reception/", gettext_noop("接待日"), ("/reception/",), ()),
    ("/cases/stats/", gettext_noop("统计"), ("/cases/stats/",), ()),
)
AUDIT = ("/audit/", gettext_noop("审计日志"), ("/audit/",), ())
ADMIN = ("/admin/", gettext_noop("后台管理"), ("/admin/",), ())


@lru_cache(maxsize=16)
def _labels(language: str | None) -> dict[str, str]:
    # The active language is `language` whenever this is filled (the cache key).
    return {href: escape(gettext(label)) for href, label, _in, _out in (*MENU, AUDIT, ADMIN)}


def _current(path: str, href: str, inside: tuple, outside: tuple) -> bool:
    if not inside:
        return path == href
    return path.startswith(inside) and not (outside and path.startswith(outside))


def menu_html(path: str, *, audit: bool = False, staff: bool = False) -> SafeString:
    """The <nav> of the header for a page at `path`, its section marked aria-current."""
    labels = _labels(get_language())
    items = MENU + ((AUDIT,) if audit else ()) + ((ADMIN,) if staff else ())
    lines = ['<nav class="nav" id="nav">']
    for href, _label, inside, outside in items:
        mark = ' aria-current="page"' if _current(path, href, inside, outside) else ""
        lines.append(f'    <a href="{href}"{mark}>{labels[href]}</a>')
    lines.append("  </nav>")
    return mark_safe("\n".join(lines))
