"""Creating and editing residents through the real pages: errors by field, nothing stored."""

import datetime

import pytest

from conftest import valid_id
from minqing.core.idnumber import ERR_ID_CHECK
from minqing.core.models import AuditEntry
from minqing.core.phone import ERR_PHONE
from minqing.registry import services
from minqing.registry.models import Household, Person


def test_a_grid_worker_files_a_household_and_its_head(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    response = client.post(
        "/households/new/",
        {
            "address": "人民路8号2幢301室",
            "grid": tree["grid_a"].pk,
            "housing": "rent",
            "residence": "floating",
            "floor_area": "56.5",
        },
    )
    household = Household.objects.get()
    assert response["Location"] == f"/households/{household.pk}/"
    assert household.number == f"{tree['grid_a'].code}-0001"
    response = client.post(
        f"/people/new/?household={household.pk}",
        {
            "name": "王秀英",
            "id_number": valid_id(7, datetime.date(1950, 3, 1), male=False),
            "phone": "13912345678",
            "household": household.pk,
            "relation": "head",
            "ethnicity": "汉族",
            "health": "good",
            "disability_grade": 0,
        },
    )
    person = Person.objects.get()
    assert response["Location"] == f"/people/{person.pk}/"
    # derived, never typed: birth date, sex, search keys; the household knows its head
    assert (person.birth_date, person.sex, person.grid) == (
        datetime.date(1950, 3, 1),
        "F",
        tree["grid_a"],
    )
    assert "wxy" in person.name_initials.split() and "wangxiuying" in person.name_pinyin.split()
    household.refresh_from_db()
    assert (household.head_name, household.member_count) == ("王秀英", 1)


def test_bad_input_gets_field_errors_and_stores_nothing(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    response = client.post(
        "/people/new/",
        {
            "name": "",
            "id_number": "110105194912310021",
            "phone": "12345",
            "grid": tree["grid_a"].pk,
            "health": "good",
            "disability_grade": 0,
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["name"]
    assert form.errors["id_number"] == [ERR_ID_CHECK.format(expected="X")]
    assert form.errors["phone"] == [ERR_PHONE]
    assert (
        'aria-invalid="true"' in response.content.decode()
        or "field-error" in response.content.decode()
    )
    assert not Person.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_birth_date_contradicting_the_id_is_refused(grid_a_worker, tree):
    from django.core.exceptions import ValidationError

    try:
        services.person_create(
            acting_user=grid_a_worker,
            data={
                "name": "李四",
                "id_number": valid_id(3),
                "birth_date": datetime.date(1970, 1, 1),
                "sex": "F",
                "grid": tree["grid_a"],
            },
        )
    except ValidationError as exc:
        assert "1960-05-04" in exc.message_dict["birth_date"][0]
        assert "男" in exc.message_dict["sex"][0]
    else:
        raise AssertionError("accepted a contradicting birth date")
    assert not Person.objects.exists()


def test_one_id_number_is_one_person_and_the_error_names_the_existing_record(
    client, grid_a_worker, community_worker, zhang_san, tree
):
    client.force_login(community_worker)
    response = client.post(
        "/people/new/",
        {
            "name": "张叁",
            "id_number": zhang_san.id_number,
            "grid": tree["grid_b"].pk,
            "health": "good",
            "disability_grade": 0,
        },
    )
    assert response.context["form"].errors["id_number"] == [
        services.ERR_DUPLICATE_VISIBLE.format(name="张三", grid="东门社区第1网格")
    ]
    assert Person.objects.count() == 1


def test_a_duplicate_from_another_grid_does_not_leak_the_name(grid_b_worker, zhang_san, tree):
    from django.core.exceptions import ValidationError

    try:
        services.person_create(
            acting_user=grid_b_worker,
            data={"name": "张叁", "id_number": zhang_san.id_number, "grid": tree["grid_b"]},
        )
    except ValidationError as exc:
        assert exc.message_dict["id_number"] == [services.ERR_DUPLICATE_HIDDEN]
        assert "张三" not in str(exc)
    else:
        raise AssertionError("created a second person with the same ID")


def test_a_legacy_15_digit_id_is_accepted_and_flagged(grid_a_worker, tree):
    person = services.person_create(
        acting_user=grid_a_worker,
        data={"name": "赵老", "id_number": "330188380101001", "grid": tree["grid_a"]},
    )
    assert person.id_legacy and person.birth_date == datetime.date(1938, 1, 1) and person.sex == "M"


def test_a_household_has_one_head(grid_a_worker, zhang_san, household_a, tree):
    from django.core.exceptions import ValidationError

    try:
        services.person_create(
            acting_user=grid_a_worker,
            data={
                "name": "张四",
                "household": household_a,
                "relation": "head",
                "grid": tree["grid_a"],
            },
        )
    except ValidationError as exc:
        assert exc.message_dict["relation"] == [services.ERR_TWO_HEADS.format(name="张三")]
    else:
        raise AssertionError("accepted two heads")


def test_editing_keeps_masked_fields_unless_retyped_and_records_history(
    client, grid_a_worker, zhang_san
):
    client.force_login(grid_a_worker)
    page = client.get(f"/people/{zhang_san.pk}/edit/").content.decode()
    assert zhang_san.id_number not in page and "13812345678" not in page  # never sent in full
    response = client.post(
        f"/people/{zhang_san.pk}/edit/",
        {
            "name": "张三",
            "id_number": "",
            "phone": "13900001111",
            "household": zhang_san.household_id,
            "relation": "head",
            "grid": zhang_san.grid_id,
            "health": "good",
            "disability_grade": 0,
            "birth_date": "1960-05-04",
            "sex": "M",
            "ethnicity": "汉族",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    zhang_san.refresh_from_db()
    assert zhang_san.phone == "13900001111" and zhang_san.id_number == valid_id(1)
    entry = AuditEntry.objects.filter(action="update", object_id=str(zhang_san.pk)).get()
    assert entry.changes == {"phone": ["138****5678", "139****1111"]}
    history = client.get(f"/people/{zhang_san.pk}/").content.decode()
    assert "139****1111" in history and "138****5678" in history


def test_a_community_worker_without_edit_rights_is_refused(client, tree, zhang_san):
    from minqing.accounts.models import DataScope, Role, RoleAssignment, User

    reader = User.objects.create_user("reader", password="x-very-long-pass")
    RoleAssignment.objects.create(
        user=reader,
        role=Role.STREET_OFFICER,
        node=tree["street"],
        data_scope=DataScope.NODE_AND_BELOW,
    )
    client.force_login(reader)
    assert client.get(f"/people/{zhang_san.pk}/").status_code == 200
    assert client.get(f"/people/{zhang_san.pk}/edit/").status_code == 403
    assert client.post(f"/people/{zhang_san.pk}/delete/").status_code == 403
    assert Person.objects.filter(pk=zhang_san.pk).exists()


def test_places_and_organisations_round_trip(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    response = client.post(
        "/places/new/",
        {
            "kind": "shop",
            "name": "张记便利店",
            "address": "人民路3号",
            "grid": tree["grid_a"].pk,
            "phone": "13812340000",
        },
    )
    assert response.status_code == 302
    assert "张记便利店" in client.get("/places/?q=张记").content.decode()
    bad = client.post("/orgs/new/", {"kind": "social", "name": "", "grid": tree["grid_b"].pk})
    assert bad.status_code == 200 and "name" in bad.context["form"].errors
    assert "grid" in bad.context["form"].errors  # grid B is not in grid A's choices


def test_a_typed_birth_date_in_the_future_or_before_1880_is_refused(client, grid_a_worker, tree):
    """Without an ID number the birth date is typed by hand: the same bounds as an ID's."""
    client.force_login(grid_a_worker)
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    for typed, error in ((tomorrow, services.ERR_BIRTH_FUTURE), ("1800-05-01", None)):
        response = client.post(
            "/people/new/",
            {"name": "钱七", "grid": tree["grid_a"].pk, "birth_date": str(typed), "sex": "M"},
        )
        assert response.status_code in (200, 400)
        form = response.context["form"]
        assert form.errors["birth_date"] == [str(error or services.ERR_BIRTH_TOO_OLD)]
    assert not Person.objects.exists()
    created = services.person_create(
        acting_user=grid_a_worker,
        data={"name": "钱七", "grid": tree["grid_a"], "birth_date": datetime.date(1930, 1, 2)},
    )
    assert created.birth_date == datetime.date(1930, 1, 2)


def test_a_grid_worker_s_new_record_forms_start_in_their_grid(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    for url in ("/households/new/", "/people/new/"):
        form = client.get(url).context["form"]
        assert form["grid"].value() == tree["grid_a"].pk, url


def test_a_community_worker_chooses_the_grid_themselves(client, community_worker, tree):
    client.force_login(community_worker)
    assert client.get("/households/new/").context["form"]["grid"].value() is None


@pytest.mark.parametrize("area", ["-1", "999999"])
def test_a_floor_area_out_of_bounds_is_refused_in_the_readers_language(
    client, grid_a_worker, tree, area
):
    client.force_login(grid_a_worker)
    data = {"address": "东门路9号", "grid": tree["grid_a"].pk, "housing": "own",
            "residence": "permanent", "floor_area": area}  # fmt: skip
    response = client.post("/households/new/", data)
    assert response.context["form"].errors["floor_area"] == ["住房面积应在 0 至 10000 平方米之间。"]
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.post("/households/new/", data)
    assert response.context["form"].errors["floor_area"] == [
        "The floor area should be between 0 and 10,000 m²."
    ]
    assert not Household.objects.exists()
