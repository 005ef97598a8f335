"""高龄 (80周岁以上) is given by minqing from the birth date: at once when a person is saved,
nightly to those who come of age (refresh_visit_due), and to people an import brings."""

import datetime as dt
import io

from django.core.management import call_command
from django.utils import timezone

from conftest import valid_id
from minqing.core.models import AuditEntry
from minqing.registry import age_tags, services
from minqing.registry.models import Person, Tag


def years_ago(n: int, days: int = 0) -> dt.date:
    return age_tags.born_by(timezone.localdate(), n) + dt.timedelta(days=days)


def test_born_by_counts_full_years_and_the_29th_of_february():
    assert age_tags.born_by(dt.date(2026, 11, 29), 80) == dt.date(1946, 11, 29)
    assert age_tags.born_by(dt.date(2028, 2, 29), 80) == dt.date(1948, 2, 29)
    assert age_tags.born_by(dt.date(2029, 2, 28), 81) == dt.date(1948, 2, 28)


def test_a_person_saved_at_eighty_is_in_the_elderly_group_without_ticking_it(
    grid_a_worker, household_a, tree
):
    assert Tag.objects.get(name="高龄").min_age == 80
    old = services.person_create(
        acting_user=grid_a_worker,
        data={"name": "王奶奶", "grid": tree["grid_a"], "household": household_a,
              "birth_date": years_ago(80), "sex": "F"},
    )  # fmt: skip
    young = services.person_create(
        acting_user=grid_a_worker,
        data={"name": "王阿姨", "grid": tree["grid_a"], "birth_date": years_ago(80, days=1),
              "sex": "F"},
    )  # fmt: skip
    assert list(old.tags.values_list("name", flat=True)) == ["高龄"]
    assert not young.tags.exists()
    entry = AuditEntry.objects.filter(object_id=str(old.pk)).latest("at")
    assert entry.changes["tags"] == [None, ["高龄"]]
    # Their home is visited monthly now (高龄 is a 重点必访 group).
    household_a.refresh_from_db()
    assert household_a.visit_state.visit_class.code != "general"


def test_the_nightly_run_gives_it_on_the_eightieth_birthday_once(grid_a_worker, tree):
    person = services.person_create(
        acting_user=grid_a_worker,
        data={"name": "李爷爷", "grid": tree["grid_a"],
              "id_number": valid_id(7, years_ago(80, days=1)), "sex": "M"},
    )  # fmt: skip
    assert not person.tags.exists()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    out = io.StringIO()
    call_command("refresh_visit_due", today=str(tomorrow), stdout=out)
    assert "1 people came of age" in out.getvalue()
    assert list(person.tags.values_list("name", flat=True)) == ["高龄"]
    entry = AuditEntry.objects.filter(object_id=str(person.pk), actor=None).get()
    assert entry.reason == "年满80周岁，自动列入高龄" and entry.changes["tags"] == [[], ["高龄"]]
    assert age_tags.give_reached(today=tomorrow) == 0  # a second run finds nobody
    # A group is only ever added: one given it by hand keeps it below the age.
    young = Person.objects.create(name="张三", grid=tree["grid_a"], birth_date=years_ago(70))
    young.tags.add(Tag.objects.get(name="高龄"))
    age_tags.give_reached(today=tomorrow)
    assert young.tags.filter(name="高龄").exists()


def test_the_person_form_says_which_groups_come_from_the_birth_date(client, grid_a_worker):
    client.force_login(grid_a_worker)
    assert "高龄（80）按出生日期自动列入" in client.get("/people/new/").content.decode()
