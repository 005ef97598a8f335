"""The printable cards: the right names and phones, residents' numbers never, scope as always."""

import pytest

from minqing.registry import services as registry
from minqing.registry.models import Household


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_contact_card_lists_the_team_the_grid_worker_and_the_address(
    client, worker_a, team_a, granny
):
    client.force_login(worker_a)
    page = text(client.get(f"/cards/household/{granny.household_id}/"))
    assert "民情联系卡" in page and "人民路1号1幢101室" in page
    assert "0571-87001234" in page
    assert "王芳" in page and "13911110001" in page  # 第一责任人
    assert "刘强" in page and "13911110002" in page  # 第二责任人
    assert "陈楼长" in page
    assert "网格员张伟" in page and "13922220000" in page
    assert "暂无结对帮扶人" in page  # the assistance app answers no helpers (yet)
    # Residents' own data: the address only.
    assert "李奶奶" not in page and "13855556666" not in page and "138****6666" not in page
    assert granny.id_number not in page and granny.id_number[-4:] not in page
    assert "@page" in page and "size: A4" in page and "Noto Sans CJK SC" in page
    assert "<link" not in page and "<script src" not in page  # self-contained


def test_the_card_size_has_both_sides_on_an_id1_page(client, worker_a, team_a, household_a):
    client.force_login(worker_a)
    page = text(client.get(f"/cards/household/{household_a.pk}/?size=card"))
    assert "size: 85.6mm 54mm" in page
    assert 'class="card85 contact-front"' in page and 'class="card85 contact-back"' in page


def test_helpers_are_on_the_contact_card(client, worker_a, team_a, household_a, helper_of):
    helper_of(household=[{"name": "赵磊", "kind": "帮扶干部", "phone": "13833334444",
                          "programme": "县民政局结对帮扶"}, {"kind": "no name"}])  # fmt: skip
    client.force_login(worker_a)
    page = text(client.get(f"/cards/household/{household_a.pk}/"))
    assert "赵磊" in page and "13833334444" in page and "县民政局结对帮扶" in page
    assert "暂无结对帮扶人" not in page


def test_the_yellow_ribbon_card_shows_the_paired_party_member(
    client, worker_a, team_a, granny, helper_of
):
    helper_of(person=[
        {"name": "志愿者小周", "kind": "志愿者", "phone": "13700000001", "programme": ""},
        {"name": "党员老周", "kind": "党员", "phone": "13700000002", "programme": "在职党员结对"},
    ])  # fmt: skip
    client.force_login(worker_a)
    page = text(client.get(f"/cards/yellow-ribbon/{granny.pk}/"))
    assert "黄丝带爱心联系卡" in page and "size: 85.6mm 54mm" in page
    assert "结对党员" in page
    # The party member comes first, before the volunteer.
    assert page.index("党员老周") < page.index("志愿者小周")
    assert "13700000002" in page
    assert "网格员张伟" in page and "13922220000" in page and "0571-87001234" in page
    assert "人民路1号1幢101室" in page
    assert "13855556666" not in page and granny.id_number not in page
    a4 = text(client.get(f"/cards/yellow-ribbon/{granny.pk}/?size=a4"))
    assert "size: A4" in a4 and "党员老周" in a4


def test_the_yellow_ribbon_card_without_a_helper_says_so(client, worker_a, team_a, granny):
    client.force_login(worker_a)
    page = text(client.get(f"/cards/yellow-ribbon/{granny.pk}/"))
    assert "待结对" in page


def test_no_yellow_ribbon_card_for_someone_not_living_alone_or_under_60(
    client, worker_a, zhang_san, granny, household_a, tree
):
    client.force_login(worker_a)
    response = client.get(f"/cards/yellow-ribbon/{zhang_san.pk}/")
    assert response.status_code == 400
    assert "黄丝带卡只为独居老人制作：张三没有“独居”类别标签" in response.content.decode()
    from minqing.registry.models import Tag

    young = registry.person_create(
        acting_user=worker_a,
        data={"name": "小林", "birth_date": __import__("datetime").date(1990, 1, 1),
              "household": household_a, "grid": tree["grid_a"],
              "tags": [Tag.objects.get(name="独居")]},
    )  # fmt: skip
    response = client.get(f"/cards/yellow-ribbon/{young.pk}/")
    assert response.status_code == 400
    assert "60周岁以上的独居老人" in response.content.decode()


def test_the_visit_form_is_prefilled_with_names_and_masked_ids(
    client, worker_a, team_a, granny, zhang_san
):
    client.force_login(worker_a)
    page = text(client.get(f"/cards/visit-form/{granny.household_id}/"))
    assert "走访记录表" in page and "人民路1号1幢101室" in page
    assert "李奶奶" in page and "张三" in page
    assert granny.id_masked in page and zhang_san.id_masked in page
    assert granny.id_number not in page and zhang_san.id_number not in page
    assert "13812345678" not in page and "13855556666" not in page
    for column in ("走访人", "走访时间", "方式", "入户", "电话", "座谈会", "意见建议与诉求"):
        assert column in page
    assert page.count('class="how"') == 6
    assert "size: A4" in page
    blank = text(client.get("/cards/visit-form/blank/"))
    assert "走访记录表" in blank and "李奶奶" not in blank


def test_the_grid_batch_prints_every_household_ten_to_a_sheet(
    client, worker_a, team_a, tree, household_a
):
    for i in range(11):
        registry.household_create(
            acting_user=worker_a, data={"address": f"人民路2号{i + 1}室", "grid": tree["grid_a"]}
        )
    client.force_login(worker_a)
    page = text(client.get(f"/cards/grid/{tree['grid_a'].code}/"))
    assert page.count('class="card85 contact-front"') == 12
    assert page.count('class="a4 sheet"') == 2
    assert "人民路2号11室" in page and "人民路1号1幢101室" in page
    assert "contact-back" not in page
    backs = text(client.get(f"/cards/grid/{tree['grid_a'].code}/?backs=1"))
    assert backs.count('class="card85 contact-back"') == 12


@pytest.mark.parametrize("who", ["grid_b_worker", "outsider"])
def test_cards_outside_the_scope_answer_404(client, request, team_a, granny, tree, who):
    client.force_login(request.getfixturevalue(who))
    for url in [
        f"/cards/household/{granny.household_id}/",
        f"/cards/household/{granny.household_id}/?size=card",
        f"/cards/yellow-ribbon/{granny.pk}/",
        f"/cards/visit-form/{granny.household_id}/",
        f"/cards/grid/{tree['grid_a'].code}/",
        "/cards/household/99999999999999999999/",
        "/cards/grid/nonsense/",
    ]:
        assert client.get(url).status_code == 404, url


def test_a_cadre_prints_the_cards_of_a_linked_household_only(
    client, monkeypatch, tree, team_a, granny, zhang_san
):
    from minqing.accounts.models import DataScope, Role, RoleAssignment, User
    from minqing.assistance import selectors as assistance

    cadre = User.objects.create_user(username="cadre", password="x-123456789")
    RoleAssignment.objects.create(
        user=cadre, role=Role.CADRE, node=tree["county"], data_scope=DataScope.SELF
    )
    monkeypatch.setattr(
        assistance,
        "linked_household_ids",
        lambda user: Household.objects.filter(
            pk=granny.household_id if user.pk == cadre.pk else 0
        ).values("pk"),
    )
    client.force_login(cadre)
    card = client.get(f"/cards/household/{granny.household_id}/")
    assert card.status_code == 200
    assert "/cards/grid/" not in text(card)  # the grid's batch is not theirs to print
    assert client.get(f"/cards/yellow-ribbon/{granny.pk}/").status_code == 200
    assert client.get(f"/cards/grid/{tree['grid_a'].code}/").status_code == 404
    other = registry.household_create(
        acting_user=granny.created_by, data={"address": "人民路3号", "grid": tree["grid_a"]}
    )
    neighbour = registry.person_create(
        acting_user=granny.created_by,
        data={"name": "邻居", "household": other, "grid": tree["grid_a"]},
    )
    assert client.get(f"/cards/household/{other.pk}/").status_code == 404
    assert client.get(f"/cards/yellow-ribbon/{neighbour.pk}/").status_code == 404
    assert (
        client.get(f"/cards/yellow-ribbon/{zhang_san.pk}/").status_code == 400
    )  # linked, not alone


def test_the_household_and_person_pages_link_to_their_cards(client, worker_a, granny, zhang_san):
    client.force_login(worker_a)
    household = text(client.get(f"/households/{granny.household_id}/"))
    assert f"/cards/household/{granny.household_id}/" in household
    assert f"/cards/visit-form/{granny.household_id}/" in household
    assert f"/cards/yellow-ribbon/{granny.pk}/" in text(client.get(f"/people/{granny.pk}/"))
    assert "/cards/yellow-ribbon/" not in text(client.get(f"/people/{zhang_san.pk}/"))


def test_the_yellow_ribbon_card_finds_the_party_member_in_english_too(
    client, worker_a, team_a, granny, helper_of
):
    helper_of(person=[
        {"name": "志愿者小周", "kind": "Volunteer", "phone": "13700000001", "programme": ""},
        {"name": "老周", "kind": "Party member", "party": True, "phone": "13700000002",
         "programme": "结对关爱"},
    ])  # fmt: skip
    client.force_login(worker_a)
    page = text(client.get(f"/cards/yellow-ribbon/{granny.pk}/", HTTP_ACCEPT_LANGUAGE="en"))
    assert page.index("老周") < page.index("志愿者小周")
    assert page.count("Paired Party member") == 1


def test_what_residents_are_handed_shows_the_responsible_persons_mobiles_only(
    client, worker_a, team_a, household_a, tree
):
    """QA (privacy): the team card and the household's contact card printed every member's
    own mobile — volunteers, 楼组长, party members, often residents themselves. DOMAIN: the
    office phone and the mobiles of the responsible people."""
    client.force_login(worker_a)
    for url in (f"/teams/{tree['grid_a'].code}/card/", f"/cards/household/{household_a.pk}/",
                f"/cards/household/{household_a.pk}/?size=card"):  # fmt: skip
        page = text(client.get(url))
        assert "13911110001" in page and "13911110002" in page, url  # 第一/第二责任人
        assert "13911110003" not in page, url  # 陈楼长's own number
    # The team's own page (staff) keeps every number.
    assert "13911110003" in text(client.get(f"/teams/{tree['grid_a'].code}/"))


def test_a_switched_off_account_is_not_printed_as_the_grid_worker(team_a, tree, grid_b_worker):
    """QA: with no active worker at the grid, the card took the team member whose duty says
    网格员 — though their account was switched off: residents were given someone gone."""
    from minqing.accounts.models import MemberKind, TeamMember
    from minqing.cards.selectors import team_contacts

    TeamMember.objects.create(team=team_a, name="陈静", kind=MemberKind.STAFF, duty="网格员",
                              mobile="13910874957", user=grid_b_worker)  # fmt: skip
    assert [c.name for c in team_contacts(tree["grid_a"]).grid_workers] == ["陈静"]
    grid_b_worker.is_active = False
    grid_b_worker.save()
    assert team_contacts(tree["grid_a"]).grid_workers == []
