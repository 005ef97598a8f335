"""Every field a page offers has a name a screen reader can read: a <label for>, a label around
it, or an aria-label (a placeholder is not a label: it disappears as soon as one types)."""

from html.parser import HTMLParser

import pytest

from minqing.registry import services

pytestmark = pytest.mark.django_db

SKIP_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Fields(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields: list[dict] = []
        self.label_for: set[str] = set()
        self.in_label = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label":
            self.in_label += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea"):
            if tag == "input" and a.get("type", "text") in SKIP_TYPES:
                return
            self.fields.append({**a, "_tag": tag, "_wrapped": self.in_label > 0})

    def handle_endtag(self, tag):
        if tag == "label" and self.in_label:
            self.in_label -= 1


def unlabelled(html: str) -> list[str]:
    parser = Fields()
    parser.feed(html)
    return [
        f"<{f['_tag']} name={f.get('name')!r}>"
        for f in parser.fields
        if not (
            f["_wrapped"]
            or f.get("aria-label")
            or f.get("aria-labelledby")
            or (f.get("id") and f["id"] in parser.label_for)
        )
    ]


def test_the_household_and_person_pages_name_every_field(client, grid_a_worker, tree):
    household = services.household_create(
        acting_user=grid_a_worker, data={"address": "东门路1号", "grid": tree["grid_a"]}
    )
    person = services.person_create(
        acting_user=grid_a_worker,
        data={
            "name": "王五",
            "grid": tree["grid_a"],
            "household": household,
            "phone": "13812345678",
        },
    )
    client.force_login(grid_a_worker)
    for url in (
        f"/households/{household.pk}/",
        f"/people/{person.pk}/",
        "/people/",
        "/households/",
        "/people/new/",
        "/cases/new/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert unlabelled(response.content.decode()) == [], url


def test_the_checker_sees_a_field_named_only_by_its_placeholder():
    assert unlabelled('<input name="q" placeholder="搜索">') == ["<input name='q'>"]
    assert unlabelled('<label>搜索 <input name="q"></label>') == []
    assert unlabelled('<label for="q">搜索</label><input id="q" name="q">') == []


@pytest.mark.parametrize(
    "url",
    [
        "/audit/",
        "/accounts/tokens/",
        "/cases/",
        "/cases/inbox/",
        "/cases/overdue/",
        "/cases/stats/",
        "/cases/ledger/",
        "/reception/",
        "/duties/",
        "/secondments/",
        "/visits/due/",
        "/visits/campaigns/",
        "/assistance/",
        "/assistance/report/",
        "/places/",
        "/orgs/",
        "/ledgers/",
    ],
)
def test_the_office_pages_name_every_field(client, county_officer, url):
    client.force_login(county_officer)
    response = client.get(url, follow=True)
    assert response.status_code == 200, url
    assert unlabelled(response.content.decode()) == [], url
