"""The pages an office and a helper use: create a pairing, log help, disqualify, the home card."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from minqing.assistance import services
from minqing.assistance.models import HelpEntry, Helper, Pairing
from minqing.core.models import AuditEntry

from .conftest import pair, programme


def test_an_office_pairs_a_cadre_with_a_household_and_sees_the_strategy(
    client, office, cadre_helper, household_a
):
    client.force_login(office)
    response = client.post(
        "/assistance/pairings/new/",
        {
            "programme": programme("cadre").pk,
            "household": household_a.number,
            "helpers": [cadre_helper.pk],
            "causes": ["illness", "skills"],
            "work_ability": "able",
            "start": "2026-01-05",
        },
    )
    p = Pairing.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/assistance/pairings/{p.pk}/"
    assert p.causes == ["illness", "skills"] and p.grid == household_a.grid
    page = client.get(response["Location"]).content.decode()
    assert "生活救助" in page and "生产扶持" in page and "架桥帮扶" in page
    assert AuditEntry.objects.filter(model="assistance.pairing", object_id=str(p.pk)).exists()
    fragment = client.get(
        "/assistance/strategies/?causes=attitude&work_ability=unable"
    ).content.decode()
    assert "思想引导" in fragment and "亲情帮扶" in fragment


def test_bad_pairing_input_is_a_form_error_not_a_500(
    client, office, cadre_helper, cadre2_helper, household_a
):
    client.force_login(office)
    base = {
        "programme": programme("cadre").pk,
        "household": household_a.number,
        "helpers": [cadre_helper.pk],
    }
    cases = [
        ({**base, "helpers": [cadre_helper.pk, cadre2_helper.pk]}, "一对一结对只能选择一位帮扶人"),
        ({**base, "helpers": []}, "请选择帮扶人"),
        ({**base, "household": "NOPE-1"}, "不在您的管辖范围内"),
        ({**base, "household": ""}, "请选择帮扶对象"),
        ({**base, "start": "2099-01-01"}, "结对日期不能晚于今天"),
        ({**base, "causes": ["laziness"]}, "causes"),
        ({**base, "programme": "999999"}, "programme"),
        ({**base, "helpers": ["abc"]}, "helpers"),
    ]
    for data, text in cases:
        response = client.post("/assistance/pairings/new/", data)
        assert response.status_code == 400, data
        body = response.content.decode()
        assert text in body or f'has-error" id="field-{text}"' in body, (data, text)
    assert not Pairing.objects.exists()


def test_a_helper_logs_help_from_the_phone_form(client, office, cadre, cadre_helper, household_a):
    p = pair(office, "cadre", [cadre_helper], household=household_a, start=dt.date(2026, 1, 5))
    client.force_login(cadre)
    page = client.get(f"/assistance/pairings/{p.pk}/").content.decode()
    assert 'id="help"' in page and 'name="helper"' not in page  # logging their own help
    response = client.post(
        f"/assistance/pairings/{p.pk}/help/",
        {
            "kind": "goods",
            "occurred_on": "2026-02-01",
            "goods": "米面油",
            "goods_value": "1,200.00",
            "fund_source": "cadre",
        },
    )
    assert response.status_code == 302
    entry = HelpEntry.objects.get()
    assert entry.helper == cadre_helper and str(entry.goods_value) == "1200.00"
    for data, text in [
        ({"kind": "goods", "amount": "abc", "fund_source": "cadre"}, "金额须为不小于 0 的数字"),
        ({"kind": "goods", "amount": "12.345", "fund_source": "cadre"}, "最多两位小数"),
        ({"kind": "goods", "amount": "100"}, "请选择资金来源"),
        ({"kind": "visit", "text": "x", "occurred_on": "2099-01-01"}, "帮扶日期不能晚于今天"),
        ({"kind": "", "text": "x"}, "kind"),
    ]:
        response = client.post(f"/assistance/pairings/{p.pk}/help/", data)
        assert response.status_code == 400
        body = response.content.decode()
        assert text in body or 'has-error" id="field-kind"' in body, (data, text)
    assert HelpEntry.objects.count() == 1
    # Helpers do not end pairings: that is the office's decision.
    assert client.post(f"/assistance/pairings/{p.pk}/end/", {"reason": "x"}).status_code == 403


def test_an_office_ends_a_pairing_with_a_reason(client, office, cadre_helper, household_a):
    p = pair(office, "cadre", [cadre_helper], household=household_a, start=dt.date(2026, 1, 5))
    client.force_login(office)
    assert client.post(f"/assistance/pairings/{p.pk}/end/", {"reason": ""}).status_code == 400
    assert (
        client.post(
            f"/assistance/pairings/{p.pk}/end/", {"reason": "x", "on": "2025-01-01"}
        ).status_code
        == 400
    )
    assert (
        client.post(f"/assistance/pairings/{p.pk}/end/", {"reason": "已稳定脱困"}).status_code
        == 302
    )
    p.refresh_from_db()
    assert p.end is not None and p.end_reason == "已稳定脱困"
    assert client.post(f"/assistance/pairings/{p.pk}/end/", {"reason": "again"}).status_code == 400


def test_an_office_registers_an_outside_helper_and_a_staff_helper(client, office, cadre, tree):
    client.force_login(office)
    r = client.post(
        "/assistance/helpers/new/",
        {
            "kind": "mother",
            "name": "张爱心",
            "phone": "139 0000 1234",
            "node": tree["community"].pk,
        },
    )
    assert r.status_code == 302
    h = Helper.objects.get(name="张爱心")
    assert h.phone == "13900001234" and h.user is None
    r = client.post(
        "/assistance/helpers/new/",
        {"kind": "cadre", "username": "cadre", "node": tree["county"].pk},
    )
    assert r.status_code == 302 and Helper.objects.get(user=cadre).name == cadre.full_name
    r = client.post(
        "/assistance/helpers/new/",
        {"kind": "cadre", "username": "cadre", "node": tree["county"].pk},
    )
    assert r.status_code == 400 and "已登记为帮扶人" in r.content.decode()
    r = client.post(
        "/assistance/helpers/new/",
        {"kind": "mother", "name": "x", "phone": "12345", "node": tree["county"].pk},
    )
    assert r.status_code == 400 and "电话号码格式不对" in r.content.decode()
    r = client.post(
        "/assistance/helpers/new/", {"kind": "alien", "name": "x", "node": tree["county"].pk}
    )
    assert r.status_code == 400


def test_disqualification_needs_a_reason_and_the_registering_office(
    client, office, cadre, mother, cadre2_helper, community_worker
):
    # The community sees the county's cadre (to pair them) but may not disqualify them.
    client.force_login(community_worker)
    page = client.get(f"/assistance/helpers/{cadre2_helper.pk}/").content.decode()
    assert "干部cadre2" in page and "/disqualify/" not in page
    r = client.post(f"/assistance/helpers/{cadre2_helper.pk}/disqualify/", {"reason": "失职"})
    assert r.status_code == 403 and Helper.objects.get(pk=cadre2_helper.pk).qualified
    client.force_login(office)
    r = client.post(f"/assistance/helpers/{mother.pk}/disqualify/", {"reason": ""})
    assert r.status_code == 400 and Helper.objects.get(pk=mother.pk).qualified
    client.force_login(cadre)
    assert (
        client.post(f"/assistance/helpers/{mother.pk}/disqualify/", {"reason": "x"}).status_code
        == 404
    )


def test_the_home_card_counts_the_helpers_contacts_and_is_empty_when_nothing_applies(
    client, office, cadre, cadre_helper, household_a, outsider, grid_b_worker
):
    pair(office, "cadre", [cadre_helper], household=household_a, start=dt.date(2025, 12, 1))
    client.force_login(cadre)
    home = client.get("/").content.decode()
    assert "我的结对帮扶" in home and "逾期未联系" in home
    client.force_login(outsider)
    assert "结对帮扶" not in client.get("/").content.decode()
    client.force_login(grid_b_worker)  # no pairing in grid B
    assert "结对帮扶" not in client.get("/").content.decode()
    client.force_login(office)
    assert "结对帮扶" in client.get("/").content.decode()


def test_the_contact_card_helpers_and_the_household_timeline(
    office, cadre, cadre_helper, household_a, grid_b_worker
):
    from minqing.assistance import selectors

    p = pair(office, "cadre", [cadre_helper], household=household_a, start=dt.date(2026, 1, 5))
    services.help_entry_add(
        acting_user=cadre,
        pairing=p,
        data={"kind": "health", "text": "送药上门", "occurred_on": dt.date(2026, 2, 2)},
    )
    [row] = selectors.helpers_for_household(household_a)
    assert row == {
        "name": cadre_helper.name,
        "kind": "党员干部",
        "party": True,
        "phone": "13900001111",
        "programme": p.programme.name,
    }
    services.help_entry_add(
        acting_user=cadre,
        pairing=p,
        data={"kind": "goods", "text": "送去过冬棉被。", "goods": "棉被", "goods_value": "150", "fund_source": "cadre",
              "occurred_on": dt.date(2026, 2, 3)},
    )  # fmt: skip
    quilt, item = selectors.timeline_items(cadre, household_a)
    assert "送药上门" in item["text"] and item["url"] == f"/assistance/pairings/{p.pk}/"
    assert quilt["text"] == "送去过冬棉被；棉被（折价 150.00 元）"  # no 。；
    assert selectors.timeline_items(grid_b_worker, household_a) == []
    services.helper_disqualify(acting_user=office, helper=cadre_helper, reason="失职")
    assert selectors.helpers_for_household(household_a) == []


def test_help_on_the_household_page_is_dated_by_day_without_a_made_up_time(
    client, office, cadre, cadre_helper, household_a
):
    p = pair(office, "cadre", [cadre_helper], household=household_a, start=dt.date(2026, 1, 5))
    services.help_entry_add(
        acting_user=cadre,
        pairing=p,
        data={"kind": "health", "text": "送药上门", "occurred_on": dt.date(2026, 2, 2)},
    )
    client.force_login(office)
    page = client.get(f"/households/{household_a.pk}/").content.decode()
    assert "送药上门" in page
    assert "<time>2026-02-02</time>" in page and "2026-02-02 12:00" not in page


def test_help_logged_for_someone_names_the_helper_so_their_page_and_the_report_agree(
    client, office, cadre_helper, cadre2_helper, household_a
):
    one = pair(office, "cadre", [cadre_helper], household=household_a, start=dt.date(2026, 1, 5))
    entry = services.help_entry_add(
        acting_user=office, pairing=one, data={"kind": "visit", "text": "代记：电话问候"}
    )
    assert entry.helper == cadre_helper  # the only helper: nothing to choose
    client.force_login(office)
    form = client.get(f"/assistance/pairings/{one.pk}/").content.decode()
    assert f'<option value="{cadre_helper.pk}" selected>' in form
    page = client.get(f"/assistance/helpers/{cadre_helper.pk}/").content.decode()
    assert "代记：电话问候" in page

    two = pair(office, "many", [cadre_helper, cadre2_helper], household=household_a,
               start=dt.date(2026, 1, 5))  # fmt: skip
    with pytest.raises(ValidationError) as err:
        services.help_entry_add(
            acting_user=office, pairing=two, data={"kind": "visit", "text": "x"}
        )
    assert err.value.message_dict == {"helper": [str(services.ERR_HELP_WHO)]}
    response = client.post(
        f"/assistance/pairings/{two.pk}/help/", {"kind": "visit", "text": "没选帮扶人"}
    )
    assert (
        response.status_code == 400
        and "请选择是哪位帮扶人提供的帮扶。" in response.content.decode()
    )
    assert not HelpEntry.objects.filter(text="没选帮扶人").exists()


def test_a_child_is_not_paired_before_being_born(office, mother, grid_a_worker, tree):
    from .conftest import orphan

    baby = orphan(grid_a_worker, tree["grid_a"], "叶小艳", 41, dt.date(2026, 3, 19))
    with pytest.raises(ValidationError) as err:
        pair(office, "mother", [mother], person=baby, start=dt.date(2025, 12, 30))
    assert err.value.message_dict == {
        "start": ["结对日期不能早于帮扶对象的出生日期（2026-03-19）。"]
    }
    assert pair(office, "mother", [mother], person=baby, start=dt.date(2026, 4, 1)).pk


def test_a_help_entry_sent_twice_is_logged_once(client, office, cadre, cadre_helper, household_a):
    """Back after saving brings the filled form again: its money must not count twice."""
    import re

    p = pair(office, "cadre", [cadre_helper], household=household_a, start=dt.date(2026, 1, 5))
    client.force_login(cadre)
    page = client.get(f"/assistance/pairings/{p.pk}/").content.decode()
    once = re.search(r'name="once" value="([^"]+)"', page).group(1)
    data = {"kind": "goods", "occurred_on": "2026-02-01", "goods": "米面油",
            "goods_value": "200", "fund_source": "cadre", "once": once}  # fmt: skip
    assert client.post(f"/assistance/pairings/{p.pk}/help/", data).status_code == 302
    again = client.post(f"/assistance/pairings/{p.pk}/help/", data, follow=True)
    assert HelpEntry.objects.count() == 1
    assert "这条帮扶记录已经保存过" in again.content.decode()
