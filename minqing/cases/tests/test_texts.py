"""What minqing writes itself (notifications, the case log's reminders and escalations) is stored
in Chinese, as before, and shown in the reader's language from its key and arguments."""

import datetime as dt
import importlib
import re
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.utils import translation

from conftest import login
from minqing.cases import services
from minqing.cases.models import CaseEvent, ExtensionRequest, Notification, NotificationKind
from minqing.cases.texts import EXTENSION_LAPSED, TEXTS, extension_decision, say, shown

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE = dt.datetime(2026, 3, 5, 17, 30, tzinfo=SHANGHAI)
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

# Every text with ASCII arguments, and the Chinese the services stored before texts had keys.
CASES = {
    "accepted": ({"number": "N1", "title": "T"}, "新受理群众反映 N1：T"),
    "dispatched": (
        {"number": "N1", "title": "T", "deadline": DEADLINE},
        "您有新派遣的案件 N1：T，请在 03月05日 17:30 前处置。",
    ),
    "transferred": (
        {"unit": "U", "number": "N1", "title": "T", "deadline": DEADLINE},
        "U收到转办案件 N1：T，请在 03月05日 17:30 前处置。",
    ),
    "declined": ({"number": "N1"}, "案件 N1 被退单，请重新派遣。"),
    "recalled": ({"number": "N1", "note": "x"}, "案件 N1 已被收回，不再由您处置：x"),
    "reassigned": (
        {"number": "N1", "title": "T", "deadline": DEADLINE},
        "案件 N1（T）已改派给您，请在 03月05日 17:30 前处置。",
    ),
    "reassigned_away": ({"number": "N1", "note": "x"}, "案件 N1 已改派他人，不再由您处置：x"),
    "fed_back": ({"number": "N1"}, "案件 N1 已处置反馈，请核查。"),
    "reworked": ({"number": "N1"}, "案件 N1 核查未通过，已退回重新处置。"),
    "escalated": (
        {"number": "N1", "title": "T", "node": "P"},
        "案件 N1（T）已上报至P，请处理。",
    ),
    "extension_asked": ({"number": "N1", "days": 3}, "案件 N1 申请延期 3 个工作日，请审批。"),
    "extension_granted": ({"number": "N1"}, "案件 N1 的延期申请已批准。"),
    "extension_refused": ({"number": "N1"}, "案件 N1 的延期申请未批准。"),
    "supervised": ({"number": "N1", "note": "x"}, "案件 N1 被督办：x"),
    "reopened": ({"number": "N1"}, "案件 N1 群众不满意，已重新办理。"),
    "reminder": (
        {"number": "N1", "title": "T", "deadline": DEADLINE},
        "催办：案件 N1（T）将于 03月05日 17:30 到期。",
    ),
    "overdue": ({"number": "N1", "title": "T"}, "案件 N1（T）已超期，请尽快办理。"),
    "extension_lapsed": (
        {"number": "N1", "node": "P"},
        "案件 N1 已超期自动上报至P，您的延期申请随之失效；仍需延期的，请重新申请。",
    ),
    "log_zoning": ({}, "位于禁建区，已标记并提升为紧急。"),
    "log_extension_asked": ({"days": 3, "note": "x"}, "申请延期 3 个工作日：x"),
    "log_extension_granted": (
        {"days": 3, "deadline": DEADLINE, "note": "x"},
        "同意延期 3 个工作日，新时限 03月05日 17:30。x",
    ),
    "log_extension_refused": ({"note": ""}, "不同意延期。"),
    "log_rated": ({"satisfaction": "fairly", "note": ""}, "评价：基本满意。"),
    "log_reminder": ({}, "已用时限的 80%，系统催办。"),
    "log_overdue": ({"stage": "handle", "deadline": DEADLINE}, "已超过处置时限 03月05日 17:30。"),
    "log_escalated": ({"node": "P"}, "超期未办结，自动上报至P。"),
    "log_escalated_lapsed": ({"node": "P"}, "超期未办结，自动上报至P；待审批的延期申请随之失效。"),
    "located": ({"number": "N1", "title": "T", "node": "P"}, "案件 N1（T）已指定到P，请处理。"),
    "log_located": ({"node": "P", "note": "x"}, "指定到P。x"),
}


def test_every_text_is_covered_here():
    assert set(CASES) == set(TEXTS)


@pytest.mark.parametrize("key", sorted(CASES))
def test_the_stored_text_is_the_chinese_it_always_was(key):
    args, chinese = CASES[key]
    with translation.override("en"):  # the reader's language does not reach what is stored
        said = say(key, **args)
    assert said.text == chinese
    assert said.key == key


@pytest.mark.parametrize("key", sorted(CASES))
def test_every_text_reads_in_english_without_a_chinese_character(key):
    said = say(key, **CASES[key][0])
    with translation.override("en"):
        english = shown(said.text, said.key, said.args)
    assert english and not CJK.search(english), english
    with translation.override("zh-hans"):
        assert shown(said.text, said.key, said.args) == said.text


def test_times_are_shown_in_local_time_in_the_readers_format():
    said = say("reminder", number="N1", title="T", deadline=DEADLINE.astimezone(dt.UTC))
    assert said.args["deadline"] == "2026-03-05T09:30:00+00:00"  # plain JSON
    assert "03月05日 17:30" in said.text
    with translation.override("en"):
        assert "03-05 17:30" in shown(said.text, said.key, said.args)


def test_a_row_without_a_key_or_with_arguments_that_do_not_fit_shows_its_text():
    with translation.override("en"):
        assert shown("旧的通知", "", None) == "旧的通知"
        assert shown("旧的通知", "no_such_text", {}) == "旧的通知"
        assert shown("旧的通知", "declined", {}) == "旧的通知"  # its number is missing
        assert shown("旧的通知", "reminder", {"number": 1, "title": "", "deadline": "x"}) == (
            "旧的通知"
        )


def test_an_unknown_key_is_refused_when_said():
    with pytest.raises(KeyError):
        say("no_such_text")


def test_a_lapsed_extension_request_reads_in_english():
    with translation.override("en"):
        assert not CJK.search(extension_decision(EXTENSION_LAPSED))
        assert extension_decision("同意。") == "同意。"  # a person's words stay as written


# --- through the services and the pages --------------------------------------------------------


@pytest.fixture
def dispatched(tree, grid_a_worker, community_worker, case_a):
    return services.case_act(
        acting_user=community_worker, case=case_a, action="dispatch", target_user=grid_a_worker
    )


def test_a_dispatch_notice_is_stored_in_chinese_and_listed_in_the_readers_language(
    client, dispatched, grid_a_worker
):
    n = Notification.objects.get(user=grid_a_worker, kind=NotificationKind.ASSIGNED)
    assert n.message.startswith(f"您有新派遣的案件 {dispatched.number}")
    assert n.message_key == "dispatched" and n.message_args["number"] == dispatched.number
    login(client, grid_a_worker)
    assert n.message in client.get("/notifications/").content.decode()
    english = client.get("/notifications/", **EN).content.decode()
    assert f"Case {dispatched.number} has been dispatched to you" in english
    assert "您有新派遣的案件" not in english
    api = client.get("/api/notifications/", **EN).json()["items"]
    assert api[0]["message"].startswith(f"Case {dispatched.number} has been dispatched to you")


def test_the_sweepers_reminder_reads_in_english_on_the_case_page_and_in_the_api(
    client, dispatched, grid_a_worker
):
    services.sweep_deadlines(now=dispatched.remind_at)
    event = CaseEvent.objects.get(case=dispatched, action="remind")
    assert (event.note, event.actor_label) == ("已用时限的 80%，系统催办。", services.SYSTEM)
    login(client, grid_a_worker)
    page = client.get(f"/cases/{dispatched.number}/", **EN).content.decode()
    assert "80% of the time limit used" in page and "系统催办" not in page
    assert "系统" not in page.split("80% of the time limit used")[0].rsplit("<li", 1)[-1]
    events = client.get(f"/api/cases/{dispatched.number}", **EN).json()["events"]
    remind = next(e for e in events if e["action"] == "remind")
    assert remind["note"].startswith("80% of the time limit used")
    assert remind["actor"] == "System"


def test_a_rating_reads_in_english_with_the_residents_words_as_written(
    client, case_a, grid_a_worker
):
    event = CaseEvent.objects.create(
        case=case_a, action="rate", **_said("log_rated", satisfaction="satisfied", note="谢谢")
    )
    assert event.note == "评价：满意。谢谢"
    with translation.override("en"):
        assert event.note_shown == "Rating: Satisfied. 谢谢"


def _said(key, **args) -> dict:
    said = say(key, **args)
    return {"note": said.text, "note_key": said.key, "note_args": said.args}


def test_migration_0010_keys_the_log_texts_without_arguments(case_a):
    old = CaseEvent.objects.create(case=case_a, action="remind", note="已用时限的 80%，系统催办。")
    by_person = CaseEvent.objects.create(
        case=case_a, action="note", actor=case_a.created_by, note="已用时限的 80%，系统催办。"
    )
    other = CaseEvent.objects.create(case=case_a, action="remind", note="别的说明")
    migration = importlib.import_module("minqing.cases.migrations.0010_said_texts")
    migration.key_known_texts(apps, None)
    keys = dict(CaseEvent.objects.values_list("pk", "note_key"))
    assert (keys[old.pk], keys[by_person.pk], keys[other.pk]) == ("log_reminder", "", "")
    with translation.override("en"):
        assert CaseEvent.objects.get(pk=old.pk).note_shown.startswith("80% of the time limit")


def test_a_lapsed_extension_request_shows_why_on_the_case_page(
    client, dispatched, grid_a_worker, community_worker
):
    services.case_act(
        acting_user=grid_a_worker, case=dispatched, action="extend_request", days=2, note="缺材料"
    )
    for action in ("start", "feedback"):
        case = dispatched.__class__.objects.get(pk=dispatched.pk)
        services.case_act(acting_user=grid_a_worker, case=case, action=action, note="已修好。")
    assert ExtensionRequest.objects.get(case=dispatched).decision_note == EXTENSION_LAPSED
    login(client, grid_a_worker)
    assert EXTENSION_LAPSED in client.get(f"/cases/{dispatched.number}/").content.decode()
    english = client.get(f"/cases/{dispatched.number}/", **EN).content.decode()
    assert EXTENSION_LAPSED not in english
