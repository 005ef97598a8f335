"""The admin speaks the user's language: model, field, app and column names are translatable.

The records themselves (names, addresses, categories) stay as entered, in Chinese; so the test
reads only the words the admin draws from the code: the page heading, the app and model names
on the index, the column headers of lists and inline tables, the labels, help texts and
fieldset titles of forms.
"""

import re
from html.parser import HTMLParser

import pytest

from minqing.cases import services as case_services
from minqing.cases.models import Category

HAN = re.compile(r"[\u4e00-\u9fff]")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


class _Chrome(HTMLParser):
    """The texts of the elements that hold the admin's own words, not the records' data."""

    # h1: the page heading; caption and th[scope=row] on the index: app and model names;
    # th in a thead: list and inline column headers; label, div.help and fieldset h2: forms.
    def __init__(self):
        super().__init__()
        self.texts: dict[str, list[str]] = {}
        self._stack: list[tuple[str, str | None]] = []  # (tag, kind being collected)
        self._thead = 0
        self._fieldset = 0

    def _kind(self, tag, a) -> str | None:
        classes = (a.get("class") or "").split()
        if tag == "h1":
            return "heading"
        if tag == "caption":
            return "app"
        if tag == "th" and a.get("scope") == "row":
            return "model"
        if tag == "th" and self._thead:
            return "column"
        if tag == "label":
            return "label"
        if tag == "div" and "help" in classes:
            return "help"
        if tag == "h2" and self._fieldset and "fieldset-heading" in classes:
            return "fieldset"
        return None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "thead":
            self._thead += 1
        if tag == "fieldset":
            self._fieldset += 1
        if tag in ("input", "br", "img", "hr", "meta", "link"):
            return
        kind = self._kind(tag, a)
        if kind:
            self.texts.setdefault(kind, []).append("")
        self._stack.append((tag, kind))

    def handle_endtag(self, tag):
        if tag == "thead":
            self._thead -= 1
        if tag == "fieldset":
            self._fieldset -= 1
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def _collecting(self) -> str | None:
        for _tag, kind in reversed(self._stack):
            if kind:
                return kind
        return None

    def handle_data(self, data):
        kind = self._collecting()
        if kind:
            self.texts[kind][-1] += data


def chrome(response) -> dict[str, list[str]]:
    assert response.status_code == 200, response.status_code
    parser = _Chrome()
    parser.feed(response.content.decode())
    return {k: [" ".join(t.split()) for t in v if t.strip()] for k, v in parser.texts.items()}


def han_in(texts: dict[str, list[str]]) -> list[str]:
    return [f"{kind}: {t}" for kind, ts in texts.items() for t in ts if HAN.search(t)]


@pytest.fixture
def records(tree, admin_user, grid_a_worker, zhang_san):
    case = case_services.case_accept(
        acting_user=grid_a_worker,
        data={
            "category": Category.objects.get(code="0601"),
            "description": "路灯不亮。",
            "grid": tree["grid_a"],
        },
    )
    return {"person": zhang_san, "household": zhang_san.household, "case": case}


def pages(tree, records, admin_user) -> list[str]:
    return [
        "/admin/",
        "/admin/registry/person/",
        f"/admin/registry/person/{records['person'].pk}/change/",
        "/admin/registry/household/",
        "/admin/registry/householdneed/add/",
        f"/admin/registry/household/{records['household'].pk}/change/",
        "/admin/cases/case/",
        f"/admin/cases/case/{records['case'].pk}/change/",
        "/admin/cases/category/",
        "/admin/cases/category/add/",
        "/admin/grids/node/",
        "/admin/grids/node/add/",
        f"/admin/grids/node/{tree['grid_a'].pk}/change/",
        f"/admin/accounts/user/{admin_user.pk}/change/",
        "/admin/visits/visitclass/add/",
        "/admin/assistance/programme/add/",
        "/admin/duties/dutyrule/add/",
        "/admin/core/workdayoverride/add/",
        "/admin/cases/open311client/add/",
        "/admin/cases/zoninglayer/add/",
    ]


@pytest.mark.django_db
def test_admin_labels_and_headers_are_english_for_an_english_user(
    client, tree, admin_user, records
):
    client.force_login(admin_user)
    for url in pages(tree, records, admin_user):
        texts = chrome(client.get(url, **EN))
        assert texts.get("label") or texts.get("column") or texts.get("model"), url
        assert han_in(texts) == [], url


@pytest.mark.django_db
def test_admin_english_uses_the_translations(client, tree, admin_user, records):
    client.force_login(admin_user)
    index = chrome(client.get("/admin/", **EN))
    assert "Resident records" in index["app"]  # 民情档案
    assert "Cases" in index["model"]  # 案件
    assert "Escalation rules" in index["model"]  # 超期上报规则
    cases = chrome(client.get("/admin/cases/case/", **EN))
    assert cases["heading"] == ["Select Case to view"]
    assert {"Case number", "Subject", "Category", "Status", "Grid", "Stage deadline"} <= set(
        cases["column"]
    )
    people = chrome(client.get("/admin/registry/person/", **EN))
    assert {"Name", "Age", "Grid"} <= set(people["column"])
    user = chrome(client.get(f"/admin/accounts/user/{admin_user.pk}/change/", **EN))
    assert "Minqing" in user["fieldset"]  # 民情
    assert "Data scope" in user["column"]  # the role assignments' inline table
    case = chrome(client.get(f"/admin/cases/case/{records['case'].pk}/change/", **EN))
    assert {"Source channel:", "Request type:", "Priority:"} <= set(case["label"])


@pytest.mark.django_db
def test_admin_stays_chinese_for_a_chinese_user(client, tree, admin_user, records):
    client.force_login(admin_user)
    index = chrome(client.get("/admin/", **ZH))
    assert "民情档案" in index["app"]
    assert "案件" in index["model"]
    cases = chrome(client.get("/admin/cases/case/", **ZH))
    assert {"案件编号", "事项", "类别", "状态", "所属网格", "本环节时限"} <= set(cases["column"])
    form = chrome(client.get("/admin/grids/node/add/", **ZH))
    assert {"层级:", "名称:", "编码:", "上级:"} <= set(form["label"])
    household = chrome(
        client.get(f"/admin/registry/household/{records['household'].pk}/change/", **ZH)
    )
    assert "户号:" in household["label"]
    case = chrome(client.get(f"/admin/cases/case/{records['case'].pk}/change/", **ZH))
    assert {"来源渠道:", "诉求类型:", "紧急程度:"} <= set(case["label"])
    user = chrome(client.get(f"/admin/accounts/user/{admin_user.pk}/change/", **ZH))
    assert "民情" in user["fieldset"]
