"""接待日: a community's reception day, its register of matters, and matters turned into cases."""

import datetime
import io

import pytest
from django.utils import timezone
from python_calamine import CalamineWorkbook

from conftest import login
from minqing.accounts.models import DataScope, RoleAssignment
from minqing.cases import reception, services
from minqing.cases.models import (
    Channel,
    OpinionKind,
    ReceptionDay,
    ReceptionMatter,
    Stage,
    Status,
)
from minqing.core.models import AuditAction, AuditEntry
from minqing.core.workdays import deadline_after


@pytest.fixture
def day(community_worker, tree):
    return reception.reception_day_create(
        acting_user=community_worker,
        data={
            "node": tree["community"],
            "date": timezone.localdate(),
            "receivers": "社区书记、网格员",
            "place": "党群服务中心",
        },
    )


@pytest.fixture
def other_day(street_officer, tree):
    return reception.reception_day_create(
        acting_user=street_officer,
        data={"node": tree["other_community"], "date": timezone.localdate(), "receivers": "主任"},
    )


def add_matter(user, day, opinion=OpinionKind.DEADLINE, **data):
    return reception.reception_matter_add(
        acting_user=user,
        day=day,
        data={
            "visitor_name": "李阿姨",
            "visitor_phone": "13900001234",
            "matter": "楼道灯坏了三个月没人修。",
            "opinion": opinion,
            **data,
        },
    )


def test_a_community_secretary_opens_a_reception_day_from_the_form(client, community_worker):
    login(client, community_worker)
    form = client.get("/reception/new/")
    assert form.status_code == 200 and "东门社区" in form.content.decode()
    response = client.post(
        "/reception/new/",
        {"node": "330188001001", "date": "2026-03-18", "receivers": "张书记", "place": "一楼"},
    )
    day = ReceptionDay.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reception/{day.pk}/"
    assert day.date == datetime.date(2026, 3, 18) and day.created_by == community_worker
    assert "张书记" in client.get("/reception/").content.decode()


def test_a_day_for_a_community_outside_the_scope_is_refused(client, community_worker, tree):
    login(client, community_worker)
    response = client.post(
        "/reception/new/", {"node": "330188001002", "date": "2026-03-18", "receivers": "张书记"}
    )
    assert response.status_code == 400
    assert str(reception.ERR_COMMUNITY) in response.content.decode()
    assert not ReceptionDay.objects.exists()


def test_a_bad_date_and_missing_receivers_are_explained(client, community_worker):
    login(client, community_worker)
    response = client.post(
        "/reception/new/", {"node": "330188001001", "date": "2026-02-30", "receivers": " "}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert str(reception.ERR_DATE) in html and str(services.ERR_REQUIRED) in html


def test_someone_without_a_community_cannot_open_a_day(client, outsider, grid_a_worker):
    for user in (outsider, grid_a_worker):
        login(client, user)
        assert client.get("/reception/new/").status_code == 403


def test_a_matter_is_registered_with_its_opinion_and_a_masked_phone(client, community_worker, day):
    login(client, community_worker)
    response = client.post(
        f"/reception/{day.pk}/matters/",
        {
            "visitor_name": "李阿姨",
            "visitor_phone": "139 0000 1234",
            "matter": "楼道灯坏了",
            "opinion": "deadline",
            "opinion_note": "一周内修好",
        },
    )
    assert response.status_code == 302
    matter = ReceptionMatter.objects.get()
    assert matter.visitor_phone == "13900001234" and matter.visitor_phone_last4 == "1234"
    html = client.get(f"/reception/{day.pk}/").content.decode()
    assert "139****1234" in html and "13900001234" not in html
    assert "限期办理" in html and "转为案件" in html
    entry = AuditEntry.objects.get(model="cases.receptionmatter")
    assert entry.action == AuditAction.CREATE and "13900001234" not in str(entry.changes)


def test_the_opinion_is_required_the_day_the_matter_is_registered(client, community_worker, day):
    login(client, community_worker)
    response = client.post(
        f"/reception/{day.pk}/matters/",
        {"visitor_name": "李阿姨", "matter": "楼道灯坏了", "opinion": ""},
    )
    assert response.status_code == 400
    assert str(reception.ERR_OPINION) in response.content.decode()
    assert "楼道灯坏了" in response.content.decode()  # what was typed is kept
    assert not ReceptionMatter.objects.exists()


def test_matters_cannot_be_registered_before_the_day(community_worker, tree):
    future = reception.reception_day_create(
        acting_user=community_worker,
        data={
            "node": tree["community"],
            "date": timezone.localdate() + datetime.timedelta(days=3),
            "receivers": "张书记",
        },
    )
    with pytest.raises(services.ValidationError) as exc:
        add_matter(community_worker, future)
    assert exc.value.message_dict["date"] == [reception.ERR_NOT_YET]


def test_a_solved_matter_has_no_convert_button_and_cannot_be_converted(
    client, community_worker, day
):
    matter = add_matter(community_worker, day, OpinionKind.SOLVED)
    login(client, community_worker)
    html = client.get(f"/reception/{day.pk}/").content.decode()
    assert "已当场解决" in html and "转为案件</button>" not in html
    with pytest.raises(services.ValidationError):
        reception.reception_matter_to_case(acting_user=community_worker, matter=matter)
    assert matter.__class__.objects.get().case is None


def test_one_click_turns_a_matter_into_a_case_with_seven_working_days(
    client, community_worker, day, tree
):
    matter = add_matter(community_worker, day)
    login(client, community_worker)
    response = client.post(f"/reception/{day.pk}/matters/{matter.pk}/case/", {})
    assert response.status_code == 302
    matter.refresh_from_db()
    case = matter.case
    assert case is not None
    assert case.channel == Channel.RECEPTION
    assert case.description == "楼道灯坏了三个月没人修。"
    assert case.reporter_name == "李阿姨" and case.reporter_phone == "13900001234"
    assert case.grid == tree["grid_a"]  # the community's first grid by default
    assert case.category.code == reception.DEFAULT_CATEGORY
    # 限期办理: the community handles it itself, the handle clock runs from now.
    assert case.status == Status.HANDLING and case.stage == Stage.HANDLE
    assert services.limit_for(case, Stage.HANDLE) == (7, 0)
    assert case.handle_deadline == deadline_after(case.dispatched_at, days=7)
    html = client.get(f"/reception/{day.pk}/").content.decode()
    assert f'href="/cases/{case.number}/"' in html


def test_the_case_deadline_counts_seven_working_days_from_the_conversion(community_worker, day):
    matter = add_matter(community_worker, day, OpinionKind.MEETING)
    now = timezone.make_aware(datetime.datetime(2025, 9, 26, 10, 0))  # Friday before 国庆
    case = reception.reception_matter_to_case(acting_user=community_worker, matter=matter, now=now)
    assert case.handle_deadline == deadline_after(now, days=7)
    assert case.handle_deadline > now + datetime.timedelta(days=14)  # the holiday week skipped


def test_a_transferred_matter_waits_registered_for_its_department(community_worker, day):
    matter = add_matter(community_worker, day, OpinionKind.TRANSFERRED)
    case = reception.reception_matter_to_case(acting_user=community_worker, matter=matter)
    assert case.status == Status.REGISTERED and case.handle_deadline is None
    assert services.limit_for(case, Stage.HANDLE) == (7, 0)


def test_the_receiver_may_choose_the_grid_and_category(community_worker, day, tree):
    matter = add_matter(community_worker, day)
    case = reception.reception_matter_to_case(
        acting_user=community_worker, matter=matter, grid="330188001001002", category="0705"
    )
    assert case.grid == tree["grid_b"] and case.category.code == "0705"


def test_a_grid_outside_the_community_is_refused(community_worker, day):
    matter = add_matter(community_worker, day)
    with pytest.raises(services.ValidationError) as exc:
        reception.reception_matter_to_case(
            acting_user=community_worker, matter=matter, grid="330188001002001"
        )
    assert exc.value.message_dict["grid"] == [reception.ERR_GRID]
    matter.refresh_from_db()
    assert matter.case is None


def test_a_matter_becomes_a_case_only_once(client, community_worker, day):
    matter = add_matter(community_worker, day)
    first = reception.reception_matter_to_case(acting_user=community_worker, matter=matter)
    login(client, community_worker)
    response = client.post(f"/reception/{day.pk}/matters/{matter.pk}/case/", {}, follow=True)
    assert reception.ERR_CONVERTED.format(number=first.number) in response.content.decode()
    assert ReceptionMatter.objects.get().case == first
    assert first.__class__.objects.count() == 1


def test_grid_workers_see_their_own_communitys_days_but_not_anothers(
    client, grid_b_worker, day, other_day
):
    login(client, grid_b_worker)
    listing = client.get("/reception/").content.decode()
    assert f'href="/reception/{day.pk}/"' in listing
    assert f'href="/reception/{other_day.pk}/"' not in listing
    assert client.get(f"/reception/{day.pk}/").status_code == 200
    assert client.get(f"/reception/{other_day.pk}/").status_code == 404
    assert client.get(f"/reception/{other_day.pk}/export.xlsx").status_code == 404
    response = client.post(
        f"/reception/{other_day.pk}/matters/",
        {"visitor_name": "x", "matter": "x", "opinion": "deadline"},
    )
    assert response.status_code == 404
    assert not ReceptionMatter.objects.exists()


@pytest.mark.parametrize("scope", [DataScope.SELF, DataScope.NODE, DataScope.CUSTOM])
def test_a_grid_worker_with_a_narrowed_scope_sees_only_their_own_days(
    client, grid_b_worker, community_worker, day, tree, scope
):
    """The register names visitors from the whole community: a grid worker whose data scope is
    narrowed (仅本人, 本部门, 自定数据 of their grid) does not read it — a day they opened
    themselves they still do (仅本人)."""
    add_matter(community_worker, day)
    login(client, grid_b_worker)
    pages = (f"/reception/{day.pk}/", f"/reception/{day.pk}/export.xlsx")
    api = f"/api/reception/days/{day.pk}"
    assert [client.get(p).status_code for p in (*pages, api)] == [200, 200, 200]
    assert [d["id"] for d in client.get("/api/reception/days/").json()["items"]] == [day.pk]
    assignment = RoleAssignment.objects.get(user=grid_b_worker)
    assignment.data_scope = scope
    assignment.save()
    if scope == DataScope.CUSTOM:
        assignment.custom_nodes.set([tree["grid_b"]])
    assert f'href="/reception/{day.pk}/"' not in client.get("/reception/").content.decode()
    assert [client.get(p).status_code for p in (*pages, api)] == [404, 404, 404]
    assert client.get("/api/reception/days/").json()["items"] == []
    if scope == DataScope.SELF:
        own = ReceptionDay.objects.create(
            node=tree["community"], date=day.date, receivers="网格员", created_by=grid_b_worker
        )
        assert client.get(f"/reception/{own.pk}/").status_code == 200


def test_another_communitys_matter_cannot_be_converted(client, community_worker, other_day,
                                                        street_officer):  # fmt: skip
    matter = add_matter(street_officer, other_day)
    login(client, community_worker)
    response = client.post(f"/reception/{other_day.pk}/matters/{matter.pk}/case/", {})
    assert response.status_code == 404
    with pytest.raises(services.PermissionDenied):
        reception.reception_matter_to_case(acting_user=community_worker, matter=matter)
    matter.refresh_from_db()
    assert matter.case is None


def test_a_grid_worker_files_the_case_in_their_own_grid(grid_b_worker, day, tree):
    matter = add_matter(grid_b_worker, day)
    case = reception.reception_matter_to_case(acting_user=grid_b_worker, matter=matter)
    assert case.grid == tree["grid_b"]


def test_the_register_exports_to_xlsx_with_masked_phones_and_an_audit_entry(
    client, community_worker, day
):
    add_matter(community_worker, day)
    add_matter(community_worker, day, OpinionKind.SOLVED, visitor_name="=cmd|' /C calc'!A0")
    login(client, community_worker)
    response = client.get(f"/reception/{day.pk}/export.xlsx")
    assert response.status_code == 200
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
        .get_sheet_by_index(0)
        .to_python()
    )
    assert rows[0][:4] == ["序号", "来访人", "联系电话", "反映事项"]
    assert rows[1][1:3] == ["李阿姨", "139****1234"]
    assert rows[2][1].startswith("'=")  # a formula-looking name stays inert
    assert "13900001234" not in str(rows)
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.model == "cases.receptionday" and entry.changes["rows"] == [None, 2]


def test_pages_need_a_login_and_odd_ids_answer_404(client, community_worker, day):
    assert client.get("/reception/").status_code == 302
    login(client, community_worker)
    assert client.get("/reception/99999999999999999999/").status_code == 404
    assert client.get(f"/reception/{day.pk}/matters/").status_code == 405
    response = client.post(f"/reception/{day.pk}/matters/99999999999999999999/case/")
    assert response.status_code == 404


def test_a_reception_day_years_away_is_a_typo_and_refused(client, community_worker):
    login(client, community_worker)
    for typo in ("2000-01-03", "2100-12-31"):
        response = client.post(
            "/reception/new/", {"node": "330188001001", "date": typo, "receivers": "书记"}
        )
        assert response.status_code == 400 and "接待日期应在" in response.content.decode()
    assert not ReceptionDay.objects.exists()


def test_matters_are_filed_under_a_class_not_a_whole_top_level_class(client, community_worker, day):
    codes = set(reception.categories().values_list("code", flat=True))
    assert "0702" in codes and "07" not in codes and "01" not in codes
    matter = add_matter(community_worker, day)
    login(client, community_worker)
    page = client.get(f"/reception/{day.pk}/").content.decode()
    assert '<option value="0702" selected>' in page and '<option value="07"' not in page
    client.post(f"/reception/{day.pk}/matters/{matter.pk}/case/", {"category": "07"})
    matter.refresh_from_db()
    assert matter.case is None  # refused: 07 is 社区事务 as a whole
