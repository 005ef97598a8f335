"""Business-rule errors (the services' ERR_* messages) speak the request's language.

Chinese by default; English when the page language is switched (the language cookie) or when an
API client sends Accept-Language: en. The expected texts are written out here rather than taken
from the constants, so a missing or stale translation fails.
"""

import hashlib
import re
from urllib.parse import urlencode

import pytest

from conftest import login
from minqing.assistance import services as assistance
from minqing.assistance.models import HelperKind, Programme
from minqing.cases import services
from minqing.cases.models import Category, Open311Client
from minqing.core.tests.test_language import _po_entries

CASES = "/api/cases/"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def english(client) -> None:
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302


@pytest.fixture
def case_a(grid_a_worker, tree):
    """A registered case in grid A."""
    return services.case_accept(
        acting_user=grid_a_worker,
        data={
            "category": Category.objects.get(code="0601"),
            "description": "东门路3号路灯不亮。",
            "grid": tree["grid_a"],
            "channel": "phone",
        },
    )


def new_case(tree, **extra) -> dict:
    data = {
        "category": "0601",
        "description": "东门路5号路灯不亮，晚上很黑。",
        "priority": "normal",
        "channel": "patrol",
        "grid": tree["grid_a"].code,
    }
    return {**data, **extra}


# ------------------------------------------------------------------ pages


def test_a_service_error_on_the_case_form_follows_the_page_language(client, grid_a_worker, tree):
    """The point is checked by the service (cases.services.case_clean), not by the form."""
    login(client, grid_a_worker)
    outside = new_case(tree, grid="", lat="30.005", lng="120.015")

    response = client.post("/cases/new/", outside)
    assert response.status_code == 400
    assert "所标位置不在您管辖的网格内，请核对位置或选择网格。" in response.content.decode()

    english(client)
    response = client.post("/cases/new/", outside)
    html = response.content.decode()
    assert response.status_code == 400
    assert response.context["form"].errors["lat"] == [
        "The marked location is not in one of your grids. Check the location or choose a grid."
    ]
    assert "The marked location is not in one of your grids." in html
    assert "所标位置" not in html


def test_a_grid_outside_the_scope_is_refused_in_the_page_language(client, grid_b_worker, tree):
    login(client, grid_b_worker)
    assert (
        "该网格不存在或不在您的管辖范围内。"
        in client.post("/cases/new/", new_case(tree)).content.decode()
    )
    english(client)
    html = client.post("/cases/new/", new_case(tree)).content.decode()
    assert "This grid does not exist or is not in your area." in html
    assert "该网格不存在" not in html


def test_a_case_action_refused_by_the_service_is_explained_in_the_page_language(
    client, case_a, grid_a_worker
):
    login(client, grid_a_worker)

    def extend(note):
        return client.post(
            f"/cases/{case_a.number}/act/extend_request/",
            {"days": 2, "note": note, "version": type(case_a).objects.get(pk=case_a.pk).version},
        )

    client.post(f"/cases/{case_a.number}/act/take/", {"version": case_a.version})
    assert extend("等配件").status_code == 302
    response = extend("再延")
    assert response.status_code == 400
    assert "该案件已有待审批的延期申请。" in response.content.decode()

    english(client)
    response = extend("again")
    assert response.status_code == 400
    html = response.content.decode()
    assert "This case already has an extension request awaiting a decision." in html
    assert "待审批的延期申请" not in html


def test_a_message_with_a_number_is_formatted_in_both_languages(client, community_worker):
    """ERR_TOO_LONG ("{n}") from the reception service: the page posts raw values."""
    login(client, community_worker)
    day = {
        "node": "330188001001",
        "date": "2026-03-18",
        "receivers": "社区书记",
        "place": "x" * 101,
    }

    response = client.post("/reception/new/", day)
    assert response.status_code == 400
    assert "不能超过 100 个字。" in response.content.decode()

    english(client)
    response = client.post("/reception/new/", day)
    assert response.status_code == 400
    html = response.content.decode()
    assert "No more than 100 characters." in html
    assert "{n}" not in html and "不能超过" not in html


# ------------------------------------------------------------------ API


def test_api_field_errors_follow_accept_language(client, grid_a_worker, tree):
    login(client, grid_a_worker)
    body = {"category": "0601", "description": "路灯不亮", "grid_code": tree["grid_b"].code}

    chinese = client.post(CASES, body, content_type=JSON)
    assert chinese.status_code == 400
    assert chinese.json() == {
        "detail": "输入有误",
        "errors": {"grid_code": ["该网格不存在或不在您的管辖范围内。"]},
    }

    response = client.post(CASES, body, content_type=JSON, **EN)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input",
        "errors": {"grid_code": ["This grid does not exist or is not in your area."]},
    }


def test_api_refusals_fill_their_placeholders_in_both_languages(client, case_a, grid_a_worker):
    """403 (ERR_NOT_ALLOWED, {action}) and 409 (ERR_WRONG_STATE, {status} and {action}): the
    case's status and the action are named in the same language as the sentence."""
    login(client, grid_a_worker)
    dispatch = f"{CASES}{case_a.number}/actions/dispatch"
    verify = f"{CASES}{case_a.number}/actions/verify"
    body = {"target_user": grid_a_worker.pk}

    r = client.post(dispatch, body, content_type=JSON)
    assert r.status_code == 403 and r.json() == {"detail": "您不能对该案件执行“派遣”。"}
    r = client.post(dispatch, body, content_type=JSON, **EN)
    assert r.status_code == 403
    assert r.json() == {"detail": "You cannot take the action “Dispatch” on this case."}

    r = client.post(verify, {}, content_type=JSON)
    assert r.status_code == 409
    assert r.json() == {"detail": "该案件当前状态为“已立案”，不能执行“核查结案”。"}
    r = client.post(verify, {}, content_type=JSON, **EN)
    assert r.status_code == 409
    assert r.json() == {
        "detail": "This case is “Registered”, so “Check and close” is not possible."
    }


def test_an_english_page_session_gets_english_api_errors_too(client, grid_a_worker, case_a):
    """The language cookie the switch sets counts for the API as for the pages."""
    login(client, grid_a_worker)
    english(client)
    r = client.post(f"{CASES}{case_a.number}/actions/cancel", {"note": " "}, content_type=JSON)
    assert r.status_code == 400
    assert r.json()["errors"] == {"note": ["Enter a note."]}


def test_the_api_nul_check_speaks_english_too(client, grid_a_worker):
    """A pydantic validator raising ValueError(ERR_NUL), a lazy string: 422, never 500."""
    login(client, grid_a_worker)
    body = {"category": "0601", "description": "路灯\x00不亮"}
    chinese = client.post(CASES, body, content_type=JSON)
    assert chinese.status_code == 422
    assert chinese.json() == {
        "detail": "输入有误",
        "errors": {"description": ["不能包含 NUL 字符。"]},
    }
    english_ = client.post(CASES, body, content_type=JSON, **EN)
    assert english_.status_code == 422
    assert english_.json()["errors"] == {"description": ["Must not contain NUL characters."]}


def test_open311_keeps_chinese_whatever_the_client_asks(client, tree):
    """Open311 speaks Chinese (with its own English gloss): the translated service messages are
    given there in their source text."""
    key = "o311_test-key-for-minqing-0001"
    Open311Client.objects.create(
        name="随手拍", key_digest=hashlib.sha256(key.encode()).hexdigest(), key_prefix=key[:8]
    )
    data = {"api_key": key, "service_code": "0601", "lat": "30.005", "long": "120.005",
            "description": "东门路路灯不亮。", "phone": "12345"}  # fmt: skip
    response = client.post("/open311/v2/requests.json", urlencode(data), content_type=FORM, **EN)
    assert response.status_code == 400
    description = response.json()[0]["description"]
    assert "电话号码格式不对" in description and "Invalid phone number" not in description


# ------------------------------------------------------------------ assistance


@pytest.fixture
def mother(county_officer, tree):
    """An 爱心妈妈 registered by the county in the community."""
    return assistance.helper_create(
        acting_user=county_officer,
        data={"kind": HelperKind.MOTHER, "name": "王爱心", "phone": "13700002222",
              "node": tree["community"]},
    )  # fmt: skip


@pytest.fixture
def mother2(county_officer, tree):
    return assistance.helper_create(
        acting_user=county_officer,
        data={"kind": HelperKind.MOTHER, "name": "李慈爱", "node": tree["community"]},
    )


@pytest.fixture
def pairing(county_officer, mother, household_a):
    """A running one-to-one pairing of the "cadre" programme with household A."""
    return assistance.pairing_create(
        acting_user=county_officer,
        data={"programme": Programme.objects.get(code="cadre"), "helpers": [mother],
              "household": household_a},
    )  # fmt: skip


def test_an_assistance_api_refusal_follows_accept_language(client, county_officer, pairing):
    login(client, county_officer)
    url = f"/api/assistance/pairings/{pairing.pk}"

    chinese = client.patch(url, {"work_ability": "fly"}, content_type=JSON)
    assert chinese.status_code == 400
    assert chinese.json() == {
        "detail": "输入有误",
        "errors": {"work_ability": ["请选择有劳动能力、无劳动能力或未评估。"]},
    }

    response = client.patch(url, {"work_ability": "fly"}, content_type=JSON, **EN)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input",
        "errors": {"work_ability": ["Choose able to work, unable to work or not assessed."]},
    }
    pairing.refresh_from_db()
    assert pairing.work_ability == ""


def test_an_assistance_placeholder_is_filled_in_the_messages_language(
    client, county_officer, mother
):
    """ERR_TARGET_REQUIRED names the programme's target kind in the sentence's language."""
    login(client, county_officer)
    body = {"programme": "cadre", "helper_ids": [mother.pk]}
    r = client.post("/api/assistance/pairings/", body, content_type=JSON)
    assert r.status_code == 400
    assert r.json()["errors"] == {"household_id": ["请选择帮扶对象：家庭户。"]}
    r = client.post("/api/assistance/pairings/", body, content_type=JSON, **EN)
    assert r.status_code == 400
    assert r.json()["errors"] == {"household_id": ["Choose the target: Households."]}


def test_assistance_pages_explain_a_service_refusal_in_the_page_language(
    client, county_officer, mother, mother2, pairing, tree
):
    login(client, county_officer)
    helper_url = f"/assistance/helpers/{mother.pk}/edit/"
    bad_phone = {"name": "王爱心", "phone": "12345", "node": tree["community"].pk}
    pairing_url = f"/assistance/pairings/{pairing.pk}/edit/"
    two_helpers = {"helpers": [mother.pk, mother2.pk]}

    response = client.post(helper_url, bad_phone)
    assert response.status_code == 400
    assert "电话号码格式不对" in response.content.decode()
    response = client.post(pairing_url, two_helpers)
    assert response.status_code == 400
    assert "一对一结对只能选择一位帮扶人。" in response.content.decode()

    english(client)
    response = client.post(helper_url, bad_phone)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Invalid phone number: a mobile number has 11 digits starting with 1" in html
    assert "电话号码格式不对" not in html
    response = client.post(pairing_url, two_helpers)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose only one helper for a one-to-one pairing." in html
    assert "一对一结对" not in html
    mother.refresh_from_db()
    assert mother.phone == "13700002222"
    assert list(pairing.helpers.all()) == [mother]


def test_an_ended_pairing_is_explained_in_english_after_the_redirect(
    client, county_officer, pairing
):
    """ERR_PAIRING_ENDED_EDIT goes through the messages framework (stored, shown on the next
    page): it is stored in the language of the request that refused."""
    assistance.pairing_end(acting_user=county_officer, pairing=pairing, reason="脱贫")
    login(client, county_officer)
    english(client)
    response = client.get(f"/assistance/pairings/{pairing.pk}/edit/", follow=True)
    html = response.content.decode()
    assert "This pairing has ended and can no longer be changed." in html
    assert "该结对已经结束" not in html


# ------------------------------------------------------------------ the catalogue

PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([^)]*\)[sd]")


def test_every_translation_keeps_the_placeholders_of_its_source():
    entries = _po_entries()
    checked = 0
    for msgid, msgstr in entries.items():
        wanted = sorted(PLACEHOLDER.findall(msgid))
        if not wanted:
            continue
        checked += 1
        assert sorted(PLACEHOLDER.findall(msgstr)) == wanted, (msgid, msgstr)
    assert checked > 50
