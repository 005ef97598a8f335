"""民情日记 is private: only its author reads it, not other workers, not their leaders."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from minqing.core.models import AuditEntry
from minqing.visits import selectors, services
from minqing.visits.models import DiaryEntry

SECRET = "张三家儿子似乎又在赌博，下次走访留意。"


@pytest.fixture
def entry(grid_a_worker, household_a):
    return services.diary_entry_save(
        acting_user=grid_a_worker,
        data={"text": SECRET, "tags": "重点 赌博，重点", "household": household_a},
    )


def test_an_entry_keeps_its_tags_once_each(entry):
    assert entry.tags == "重点 赌博" and entry.tag_list == ["重点", "赌博"]


def test_only_the_author_sees_an_entry(
    client, entry, grid_a_worker, grid_b_worker, community_worker, county_officer
):
    client.force_login(grid_a_worker)
    assert SECRET in client.get("/visits/diary/").content.decode()
    assert client.get(f"/visits/diary/{entry.pk}/edit/").status_code == 200
    # neither a colleague nor the leaders above see it, nor can they change or delete it
    for other in (grid_b_worker, community_worker, county_officer):
        client.force_login(other)
        assert SECRET not in client.get("/visits/diary/").content.decode()
        assert client.get(f"/visits/diary/{entry.pk}/edit/").status_code == 404
        assert client.post(f"/visits/diary/{entry.pk}/edit/", {"text": "改"}).status_code == 404
        assert client.post(f"/visits/diary/{entry.pk}/delete/").status_code == 404
        assert list(selectors.diary_for(other)) == []
    assert DiaryEntry.objects.get().text == SECRET


def test_a_diary_mention_shows_on_the_household_page_only_to_its_author(
    client, entry, grid_a_worker, community_worker, household_a
):
    client.force_login(grid_a_worker)
    assert SECRET[:20] in client.get(f"/households/{household_a.pk}/").content.decode()
    client.force_login(community_worker)
    page = client.get(f"/households/{household_a.pk}/")
    assert page.status_code == 200 and SECRET[:20] not in page.content.decode()


def test_the_audit_log_records_the_entry_but_not_its_text(entry):
    audit = AuditEntry.objects.get(model="visits.diaryentry")
    assert SECRET not in str(audit.changes) and SECRET not in audit.object_repr


def test_a_worker_writes_edits_and_deletes_an_entry_through_the_pages(
    client, grid_a_worker, household_a
):
    client.force_login(grid_a_worker)
    today = timezone.localdate().isoformat()
    response = client.post(
        "/visits/diary/",
        {
            "date": today,
            "text": "今天走访了三户。",
            "tags": "走访",
            "household_number": household_a.number,
        },
    )
    assert response.status_code == 302
    entry = DiaryEntry.objects.get()
    assert entry.household == household_a and entry.author == grid_a_worker
    client.post(f"/visits/diary/{entry.pk}/edit/", {"date": today, "text": "今天走访了四户。"})
    entry.refresh_from_db()
    assert entry.text == "今天走访了四户。" and entry.household is None
    assert "今天走访了四户" in client.get("/visits/diary/?tag=").content.decode()
    client.post(f"/visits/diary/{entry.pk}/delete/")
    assert not DiaryEntry.objects.exists()


def test_a_household_outside_the_scope_cannot_be_mentioned(client, grid_b_worker, household_a):
    client.force_login(grid_b_worker)
    response = client.post(
        "/visits/diary/",
        {
            "date": timezone.localdate().isoformat(),
            "text": "x",
            "household_number": household_a.number,
        },
    )
    assert response.status_code == 400
    assert str(services.ERR_HOUSEHOLD_SCOPE) in response.content.decode()
    with pytest.raises(ValidationError):
        services.diary_entry_save(
            acting_user=grid_b_worker, data={"text": "x", "household": household_a}
        )
    assert not DiaryEntry.objects.exists()


def test_entries_are_found_by_tag_and_text(grid_a_worker):
    for text, tags in (("修路灯", "维修"), ("低保复核", "低保 复核"), ("维修水管", "维修")):
        services.diary_entry_save(acting_user=grid_a_worker, data={"text": text, "tags": tags})
    assert {e.text for e in selectors.diary_for(grid_a_worker, tag="维修")} == {
        "修路灯",
        "维修水管",
    }
    assert [e.text for e in selectors.diary_for(grid_a_worker, tag="复核")] == ["低保复核"]
    assert [e.text for e in selectors.diary_for(grid_a_worker, q="水管")] == ["维修水管"]


def test_a_diary_date_cannot_be_in_the_future(grid_a_worker):
    with pytest.raises(ValidationError) as exc:
        services.diary_entry_save(
            acting_user=grid_a_worker,
            data={"text": "x", "date": timezone.localdate() + dt.timedelta(days=1)},
        )
    assert exc.value.message_dict == {"date": [services.ERR_DIARY_FUTURE]}
    with pytest.raises(ValidationError) as exc:  # QA: 0001-01-01 was taken
        services.diary_entry_save(
            acting_user=grid_a_worker, data={"text": "x", "date": dt.date(1, 1, 1)}
        )
    assert exc.value.message_dict == {"date": [services.ERR_DIARY_PAST]}


def test_the_diary_form_starts_on_today_and_can_name_the_household_it_came_from(
    client, grid_a_worker, household_a
):
    client.force_login(grid_a_worker)
    page = client.get(f"/visits/diary/?household={household_a.pk}").content.decode()
    assert f'value="{timezone.localdate().isoformat()}"' in page
    assert f'value="{household_a.number}"' in page
