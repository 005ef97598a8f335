"""高龄 (80周岁以上) is given by minqing from the birth date, 残疾 (持残疾证人员) from 残疾等级:
at once when a person is saved, nightly to those who come of age (refresh_visit_due), and to
people an import brings."""

import datetime as dt
import io

from django.core.management import call_command
from django.utils import timezone

from conftest import valid_id
from minqing.core.models import AuditEntry
from minqing.registry import given_tags, services
from minqing.registry.models import Person, Tag


def years_ago(n: int, days: int = 0) -> dt.date:
    return given_tags.born_by(timezone.localdate(), n) + dt.timedelta(days=days)


def test_born_by_counts_full_years_and_the_29th_of_february():
    assert given_tags.born_by(dt.date(2026, 11, 29), 80) == dt.date(1946, 11, 29)
    assert given_tags.born_by(dt.date(2028, 2, 29), 80) == dt.date(1948, 2, 29)
    assert given_tags.born_by(dt.date(2029, 2, 28), 81) == dt.date(1948, 2, 28)


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
    assert given_tags.give_due(today=tomorrow) == 0  # a second run finds nobody
    # A group is only ever added: one given it by hand keeps it below the age.
    young = Person.objects.create(name="张三", grid=tree["grid_a"], birth_date=years_ago(70))
    young.tags.add(Tag.objects.get(name="高龄"))
    given_tags.give_due(today=tomorrow)
    assert young.tags.filter(name="高龄").exists()


def test_the_person_form_says_which_groups_come_from_the_birth_date(client, grid_a_worker):
    client.force_login(grid_a_worker)
    assert "高龄（80）按出生日期自动列入" in client.get("/people/new/").content.decode()


def test_the_person_form_says_which_groups_come_from_the_grade(client, grid_a_worker):
    client.force_login(grid_a_worker)
    assert "残疾按残疾等级自动列入" in client.get("/people/new/").content.decode()


def test_a_disability_grade_puts_the_person_in_the_disabled_group(grid_a_worker, tree):
    """Saved with 残疾等级 二级, the person is in 残疾 (the ledgers, the home page's counts and
    the 残疾 list read the group); a grade that reaches the database another way is given
    nightly, once."""
    assert Tag.objects.get(name="残疾").by_disability
    graded = services.person_create(
        acting_user=grid_a_worker,
        data={"name": "赵叔", "grid": tree["grid_a"], "disability_grade": 2,
              "id_number": valid_id(8)},
    )  # fmt: skip
    assert list(graded.tags.values_list("name", flat=True)) == ["残疾"]
    other = Person.objects.create(name="钱婶", grid=tree["grid_a"], disability_grade=4)
    none = Person.objects.create(name="孙伯", grid=tree["grid_a"], disability_grade=0)
    assert given_tags.give_due() == 1
    assert list(other.tags.values_list("name", flat=True)) == ["残疾"]
    assert not none.tags.exists()
    entry = AuditEntry.objects.get(object_id=str(other.pk), actor=None)
    assert entry.reason == "登记了残疾等级，自动列入残疾"
    assert given_tags.give_due() == 0


def test_an_imported_grade_gives_the_group(grid_a_worker, tree):
    from minqing.registry.tests.test_import_support import HEADERS, person_row, reasons, run, xlsx

    rows = [[*person_row(1, "王建国"), "二级"], [*person_row(2, "李四"), ""]]
    plan = run(grid_a_worker, xlsx([*HEADERS, "残疾等级"], rows))
    assert plan.ok, reasons(plan)
    wang, li = Person.objects.get(name="王建国"), Person.objects.get(name="李四")
    assert list(wang.tags.values_list("name", flat=True)) == ["残疾"]
    assert not li.tags.exists()


def test_a_group_given_both_ways_says_which_way_each_person_came(tree):
    group = Tag.objects.create(name="重点关爱", min_age=80, by_disability=True)
    old = Person.objects.create(name="周奶奶", grid=tree["grid_a"], birth_date=years_ago(90))
    graded = Person.objects.create(name="吴叔", grid=tree["grid_a"], disability_grade=1)
    assert given_tags.give_due() >= 2
    reasons = dict(
        AuditEntry.objects.filter(object_id__in=[str(old.pk), str(graded.pk)])
        .filter(reason__contains=group.name)
        .values_list("object_id", "reason")
    )
    assert reasons == {
        str(old.pk): "年满80周岁，自动列入重点关爱",
        str(graded.pk): "登记了残疾等级，自动列入重点关爱",
    }
