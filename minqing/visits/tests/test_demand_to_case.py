"""A demand raised on a visit becomes a case in one step, linked both ways."""

import pytest
from django.core.exceptions import ValidationError

from minqing.cases.models import Case, Channel, Status
from minqing.visits import selectors, services


@pytest.fixture
def visit(grid_a_worker, zhang_san):
    return services.visit_record(
        acting_user=grid_a_worker,
        household=zhang_san.household,
        data={"members_met": [zhang_san], "opinions": "楼下路灯坏了一个月，晚上出门不安全。"},
    )


def test_a_demand_becomes_a_registered_case_of_the_household(
    grid_a_worker, tree, visit, zhang_san, street_light
):
    # when the grid worker turns the demand into a case with 张三 as the reporter
    case = services.visit_demand_to_case(
        acting_user=grid_a_worker,
        visit=visit,
        category=street_light,
        description=visit.opinions,
        reporter=zhang_san,
    )

    # then it is a registered case of the household, from a visit, in the household's grid
    case.refresh_from_db()
    assert case.channel == Channel.VISIT
    assert case.household == zhang_san.household
    assert case.grid == tree["grid_a"]
    assert case.status == Status.REGISTERED
    assert (case.reporter, case.reporter_name) == (zhang_san, "张三")
    assert case.reporter_phone_last4 == "5678"
    # and the visit and the case lead to each other
    assert list(visit.cases.all()) == [case]
    assert list(case.visits.all()) == [visit]


def test_the_case_shows_on_the_household_timeline(
    client, grid_a_worker, visit, zhang_san, street_light
):
    case = services.visit_demand_to_case(
        acting_user=grid_a_worker, visit=visit, category=street_light, description="路灯不亮"
    )
    items = selectors.timeline_for(grid_a_worker, zhang_san.household)
    assert [i.kind for i in items] == ["case", "visit"]
    assert case.number in items[0].title and items[1].badges == [case.number]
    client.force_login(grid_a_worker)
    page = client.get(f"/households/{zhang_san.household_id}/").content.decode()
    assert case.number in page and f"/visits/{visit.pk}/" in page


def test_the_same_demand_is_not_filed_twice(grid_a_worker, visit, street_light):
    services.visit_demand_to_case(
        acting_user=grid_a_worker, visit=visit, category=street_light, description="路灯不亮"
    )
    with pytest.raises(ValidationError) as exc:
        services.visit_demand_to_case(
            acting_user=grid_a_worker, visit=visit, category=street_light, description="路灯不亮"
        )
    assert "请勿重复提交" in exc.value.message_dict["description"][0]
    assert Case.objects.count() == 1


def test_the_reporter_must_be_a_member_met_on_the_visit(grid_a_worker, tree, visit, street_light):
    from minqing.registry import services as registry

    other = registry.person_create(
        acting_user=grid_a_worker,
        data={"name": "李四", "household": visit.household, "grid": tree["grid_a"]},
    )
    with pytest.raises(ValidationError) as exc:
        services.visit_demand_to_case(
            acting_user=grid_a_worker,
            visit=visit,
            category=street_light,
            description="路灯不亮",
            reporter=other,
        )
    assert exc.value.message_dict == {"reporter": [services.ERR_REPORTER]}
    assert not Case.objects.exists()


def test_the_case_form_on_the_visit_page_files_the_case(
    client, grid_a_worker, visit, zhang_san, street_light
):
    client.force_login(grid_a_worker)
    page = client.get(f"/visits/{visit.pk}/").content.decode()
    assert "转为案件" in page and "楼下路灯坏了一个月" in page  # description prefilled
    data = {"description": visit.opinions, "reporter": zhang_san.pk, "priority": "normal"}
    if street_light.parent_id:  # its class (公用设施) is no category to file under
        parent = {**data, "category": street_light.parent.code}
        assert client.post(f"/visits/{visit.pk}/case/", parent).status_code == 400
        assert not Case.objects.exists()
    response = client.post(f"/visits/{visit.pk}/case/", {**data, "category": street_light.code})
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.visits.get() == visit
    assert case.number in client.get(f"/visits/{visit.pk}/").content.decode()


def test_a_case_form_without_a_category_says_so_instead_of_failing(client, grid_a_worker, visit):
    client.force_login(grid_a_worker)
    response = client.post(f"/visits/{visit.pk}/case/", {"description": "路灯"})
    assert response.status_code == 400
    assert "此项必填。" in response.content.decode()
    assert not Case.objects.exists()


def test_a_class_with_categories_under_it_is_refused_by_the_service_too(
    grid_a_worker, visit, street_light
):
    """The API takes a code: 06 (公用设施) filed a case with no limit of its own category."""
    from django.core.exceptions import ValidationError

    from minqing.cases.services import ERR_CATEGORY_LEAF

    with pytest.raises(ValidationError) as refused:
        services.visit_demand_to_case(
            acting_user=grid_a_worker, visit=visit, category="06", description="路灯不亮"
        )
    name = street_light.parent.name
    assert refused.value.message_dict["category"] == [ERR_CATEGORY_LEAF.format(name=name)]
    assert not Case.objects.exists()


def test_a_photo_taken_on_the_visit_goes_with_the_case(
    client, grid_a_worker, visit, zhang_san, street_light, settings, tmp_path
):
    """The visit's 转为案件 form had no photo field: the worker's picture of the broken lamp
    could only be added at 处置反馈, by someone else."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from minqing.cases.models import CasePhoto

    settings.MEDIA_ROOT = tmp_path / "media"
    picture = io.BytesIO()
    Image.new("RGB", (30, 20), "orange").save(picture, "JPEG")
    client.force_login(grid_a_worker)
    data = {"category": street_light.code, "description": visit.opinions, "priority": "normal"}
    bad = SimpleUploadedFile("lamp.jpg", b"not a picture", "image/jpeg")
    refused = client.post(f"/visits/{visit.pk}/case/", {**data, "photos": [bad]})
    assert refused.status_code == 400 and "lamp.jpg" in refused.content.decode()
    assert not Case.objects.exists()
    good = SimpleUploadedFile("lamp.jpg", picture.getvalue(), "image/jpeg")
    response = client.post(f"/visits/{visit.pk}/case/", {**data, "photos": [good]})
    assert response.status_code == 302
    photo = CasePhoto.objects.get(case=Case.objects.get())
    assert (photo.stage, photo.content_type, photo.uploaded_by) == (
        "受理",
        "image/jpeg",
        grid_a_worker,
    )
    assert 'enctype="multipart/form-data"' in client.get(f"/visits/{visit.pk}/").content.decode()
