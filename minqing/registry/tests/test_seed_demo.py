"""`make run` loads the demo county with seed_demo: it must work on an empty database, give
every demo account what the README promises, and change nothing when run again."""

import io

import pytest
from django.core.management import call_command

from minqing.accounts.access import scope_queryset, user_scope
from minqing.accounts.models import DataScope, Role, User
from minqing.cases.models import Case
from minqing.registry.models import Household, Person
from minqing.visits.models import Visit

DEMO_USERS = {
    "admin": Role.ADMIN,
    "county": Role.COUNTY_OFFICER,
    "street": Role.STREET_OFFICER,
    "community": Role.COMMUNITY_SECRETARY,
    "grid_a": Role.GRID_WORKER,
    "grid_b": Role.GRID_WORKER,
    "secretary": Role.COMMUNITY_SECRETARY,
    "cadre": Role.CADRE,
}


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", people=700, cases=30, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def counts() -> dict:
    return {m.__name__: m.objects.count() for m in (User, Household, Person, Case, Visit)}


@pytest.fixture
def seeded(db):
    text = seed()
    return text


def test_every_demo_account_exists_with_its_role_and_can_log_in(seeded, client):
    for username, role in DEMO_USERS.items():
        user = User.objects.get(username=username)
        assert role in user_scope(user).roles or (role == Role.ADMIN and user.is_superuser)
        r = client.post("/accounts/login/", {"username": username, "password": "minqing-demo"})
        assert r.status_code == 302, username
        client.post("/accounts/logout/")
    for username in DEMO_USERS:
        assert username in seeded, f"{username} is not printed for the user"


def test_the_demo_county_has_files_cases_and_visits(seeded):
    c = counts()
    assert c["Household"] > 200 and c["Person"] >= 700
    assert c["Case"] == 30 and c["Visit"] > 100


def test_the_cadre_sees_no_residents_by_place_and_the_secretary_only_her_community(seeded):
    cadre = User.objects.get(username="cadre")
    assert cadre.assignments.get().data_scope == DataScope.SELF
    assert not scope_queryset(cadre, Household.objects.all()).exists()
    secretary = User.objects.get(username="secretary")
    community = secretary.assignments.get().node
    mine = scope_queryset(secretary, Household.objects.all())
    assert mine.exists()
    assert not mine.exclude(grid__path__startswith=community.path).exists()
    assert Household.objects.exclude(grid__path__startswith=community.path).exists()


def test_running_it_again_changes_nothing(seeded):
    before = counts()
    again = seed()
    assert "跳过" in again
    assert counts() == before


def test_the_secretary_and_the_cadre_have_contact_duties(seeded):
    from minqing.duties.models import DutyHolder, DutyLink

    for username in ("secretary", "cadre"):
        holder = DutyHolder.objects.get(user__username=username)
        assert DutyLink.objects.filter(holder=holder).exists(), username
    assert DutyHolder.objects.count() > 10


def test_the_cadre_has_pairs_and_reads_their_households(seeded, client):
    from minqing.accounts.links import linked_households_q
    from minqing.assistance.models import Pairing

    cadre = User.objects.get(username="cadre")
    linked = Household.objects.filter(linked_households_q(cadre))
    assert linked.count() >= 3
    client.post("/accounts/login/", {"username": "cadre", "password": "minqing-demo"})
    assert client.get(f"/households/{linked.first().pk}/").status_code == 200
    assert client.get("/assistance/").status_code == 200
    kinds = set(Pairing.objects.values_list("programme__pairing_kind", flat=True))
    assert len(kinds) >= 3, kinds


def test_the_demo_groups_go_by_full_years_on_the_demo_day(seeded):
    """高龄 is 80周岁以上 and 4050 women 40+ / men 50+ (a year drawn as 365 days put a few
    79-year-olds in 高龄)."""
    import datetime

    day = datetime.date(2026, 11, 26)

    def years(birth):
        return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))

    old = Person.objects.filter(tags__name="高龄")
    assert old.exists() and all(years(p.birth_date) >= 80 for p in old)
    for p in Person.objects.filter(tags__name="4050"):
        assert years(p.birth_date) >= (40 if p.sex == "F" else 50), p.pk


def test_the_grid_card_names_the_demo_grid_worker_and_secretary(seeded, client):
    """The card of 东门社区第1网格 listed a made-up 网格员 while grid_a (张伟) works there."""
    from minqing.accounts.models import TeamMember, User

    grid_a = User.objects.get(username="grid_a")
    node = grid_a.assignments.get().node
    member = TeamMember.objects.get(team__node=node, duty="网格员")
    assert (member.name, member.user) == (grid_a.full_name, grid_a)
    client.force_login(grid_a)
    card = client.get(f"/teams/{node.code}/card/").content.decode()
    assert grid_a.full_name in card and "王芳" in card
