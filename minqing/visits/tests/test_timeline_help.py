"""The household timeline merges the help received (from the assistance app) with visits,
diary mentions and cases."""

import datetime as dt

from django.utils import timezone

from minqing.visits import selectors, services


def test_the_timeline_shows_help_received_among_the_visits(
    client, monkeypatch, grid_a_worker, household_a
):
    from minqing.assistance import selectors as assistance

    calls = []

    def timeline_items(user, household):
        calls.append((user.pk, household.pk))
        return [
            {
                "at": timezone.now() - dt.timedelta(days=2),
                "title": "送米面油",
                "text": "帮扶干部赵磊送去米一袋、油一桶",
                "url": "/assistance/logs/1/",
            },
            {"at": "not a date", "title": "坏数据"},  # ignored, never a 500
        ]

    monkeypatch.setattr(assistance, "timeline_items", timeline_items)
    services.visit_record(acting_user=grid_a_worker, household=household_a, data={"seen": "正常"})

    items = selectors.timeline_for(grid_a_worker, household_a)

    assert [i.kind for i in items] == ["visit", "help"]
    assert items[1].title == "送米面油" and items[1].url == "/assistance/logs/1/"
    assert calls == [(grid_a_worker.pk, household_a.pk)]
    client.force_login(grid_a_worker)
    page = client.get(f"/households/{household_a.pk}/").content.decode()
    assert "送米面油" in page and "帮扶干部赵磊送去米一袋" in page and "坏数据" not in page
