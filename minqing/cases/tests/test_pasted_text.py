"""Text pasted from a chat: zero-width marks nobody sees (core.pasted) are no text at all.

QA: a description of three zero-width spaces filed a case (201), a note of two cancelled one
(200), while a note of spaces was refused with 请填写说明。 — on the pages and the API alike."""

from django.utils import timezone

from conftest import login
from minqing.cases import reception, services
from minqing.cases.models import Case, OpinionKind, ReceptionMatter, Satisfaction, Status

from .test_views import act, new_case_data

JSON = "application/json"
ZW = "\u200b\u200b\u200b"  # zero-width spaces
ODD = "\u200c\u2060\ufeff"  # a non-joiner, a word joiner, a byte-order mark


def test_the_api_refuses_a_description_and_a_note_of_zero_width_marks(
    client, grid_a_worker, tree, case_a
):
    client.force_login(grid_a_worker)
    r = client.post("/api/cases/", {"category": "0601", "description": ZW,
                                    "grid_code": tree["grid_a"].code}, content_type=JSON)  # fmt: skip
    assert r.status_code == 400, r.content
    assert r.json()["errors"]["description"] == ["此项必填。"]
    assert Case.objects.count() == 1  # case_a alone

    for note in ("\u200b\u200b", ODD, " \u3000\u200b "):
        r = client.post(f"/api/cases/{case_a.number}/actions/cancel", {"note": note},
                        content_type=JSON)  # fmt: skip
        assert r.status_code == 400, r.content
        assert r.json()["errors"]["note"] == ["请填写说明。"]
    assert Case.objects.get(pk=case_a.pk).status == Status.REGISTERED


def test_a_pasted_name_and_description_are_stored_as_seen(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    r = client.post("/api/cases/", {"category": "0601", "description": "\ufeff路灯\u200b不亮。",
                                    "reporter_name": "王\u200b大妈", "grid_code": tree["grid_a"].code},
                    content_type=JSON)  # fmt: skip
    assert r.status_code == 201, r.content
    case = Case.objects.get()
    assert (case.description, case.title, case.reporter_name) == (
        "路灯不亮。",
        "路灯不亮",
        "王大妈",
    )


def test_the_pages_refuse_them_with_the_fields_own_words(client, grid_a_worker, tree, case_a):
    login(client, grid_a_worker)
    response = client.post("/cases/new/", new_case_data(tree, description=ZW))
    assert response.status_code == 400
    assert response.context["form"].errors["description"] == [services.ERR_REQUIRED]

    response = act(client, case_a, "cancel", note="\u200b\u200b")
    assert response.status_code == 400
    form = next(f for f in response.context["action_forms"] if f.action == "cancel")
    assert form.errors["note"] == ["请填写注销原因。"]  # as for spaces
    assert Case.objects.get(pk=case_a.pk).status == Status.REGISTERED
    assert Case.objects.count() == 1


def test_a_reception_matter_and_its_register_need_visible_text(client, community_worker, tree):
    client.force_login(community_worker)
    r = client.post("/api/reception/days/", {"node_code": tree["community"].code,
                                             "date": timezone.localdate().isoformat(),
                                             "receivers": ZW}, content_type=JSON)  # fmt: skip
    assert r.status_code == 400 and r.json()["errors"]["receivers"] == ["此项必填。"]
    day = reception.reception_day_create(
        acting_user=community_worker,
        data={"node": tree["community"], "date": timezone.localdate(), "receivers": "书记"},
    )
    r = client.post(f"/api/reception/days/{day.pk}/matters",
                    {"visitor_name": "李\u200b阿姨", "matter": ZW, "opinion": "deadline"},
                    content_type=JSON)  # fmt: skip
    assert r.status_code == 400 and r.json()["errors"]["matter"] == ["此项必填。"]
    assert not ReceptionMatter.objects.exists()
    r = client.post(f"/api/reception/days/{day.pk}/matters",
                    {"visitor_name": "李\u200b阿姨", "matter": "楼道灯坏了", "opinion": "deadline"},
                    content_type=JSON)  # fmt: skip
    assert r.status_code == 201 and ReceptionMatter.objects.get().visitor_name == "李阿姨"
    assert OpinionKind.DEADLINE == ReceptionMatter.objects.get().opinion


def test_a_residents_rating_note_of_zero_width_marks_is_no_note(case_a, grid_a_worker):
    case = case_a
    for action, note in (("take", ""), ("feedback", "已修好。"), ("verify", "")):
        case = services.case_act(acting_user=grid_a_worker, case=case, action=action, note=note)
    case = services.case_rate_public(case=case, satisfaction=Satisfaction.SATISFIED, note=ZW)
    assert case.status == Status.RATED and case.rating_note == ""


def test_a_handover_needs_a_visible_reason(
    client, community_worker, grid_a_worker, grid_b_worker, case_a
):
    services.case_act(acting_user=community_worker, case=case_a, action="dispatch",
                      target_user=grid_a_worker)  # fmt: skip
    client.force_login(community_worker)
    r = client.post("/api/cases/handover/", {"holder": grid_a_worker.pk,
                                             "successor": grid_b_worker.pk, "note": ZW},
                    content_type=JSON)  # fmt: skip
    assert r.status_code == 400, r.content
    assert r.json()["errors"]["note"] == ["请填写说明。"]
