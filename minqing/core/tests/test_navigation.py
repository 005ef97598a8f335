"""The header's menu marks the section a page belongs to, in the user's language."""

import re

import pytest
from django.utils import translation

from minqing.core.navigation import menu_html


def current(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" aria-current="page">', html)


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("/", ["/"]),
        ("/people/123/", ["/people/"]),
        ("/visits/campaigns/", ["/visits/due/"]),
        ("/secondments/4/", ["/assistance/"]),
        ("/cases/20261127-000001/", ["/cases/inbox/"]),
        ("/cases/stats/", ["/cases/stats/"]),
        ("/accounts/tokens/", []),
        ("/peoplex/", []),
    ],
)
def test_the_page_section_is_marked_once(path, section):
    with translation.override("zh-hans"):
        assert current(menu_html(path)) == section


def test_audit_and_admin_links_only_for_those_who_may_open_them():
    with translation.override("zh-hans"):
        plain = menu_html("/audit/")
        both = menu_html("/audit/", audit=True, staff=True)
    assert "/audit/" not in plain and "/admin/" not in plain
    assert current(both) == ["/audit/"] and ">后台管理</a>" in both


def test_labels_follow_the_active_language():
    with translation.override("en"):
        english = menu_html("/")
    with translation.override("zh-hans"):
        chinese = menu_html("/")
    assert ">Home</a>" in english and ">首页</a>" not in english
    assert ">首页</a>" in chinese and ">案件</a>" in chinese


def test_a_signed_in_page_draws_the_menu(client, grid_a_worker):
    client.force_login(grid_a_worker)
    html = client.get("/cases/inbox/").content.decode()
    menu = html[html.index('<nav class="nav"') : html.index("</nav>")]
    assert current(menu) == ["/cases/inbox/"] and 'href="/admin/"' not in menu
    html = client.get("/cases/inbox/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Cases</a>" in html
