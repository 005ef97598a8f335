"""Demo visits: each household's last visit somewhere in its cycle, so the due lists look like
a working county (most households on schedule, some due this week, some overdue)."""

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from minqing.accounts.models import Role, RoleAssignment
from minqing.registry.models import Household
from minqing.visits.models import Visit, VisitMode
from minqing.visits.services import schedules_compute, visit_states_refresh

SEEN = [
    "家中一切正常，老人身体尚可。",
    "了解家庭收入情况，暂无困难。",
    "宣传防诈骗知识，发放联系卡。",
    "孩子在校情况良好，家长无诉求。",
    "询问医保报销进度，已现场解答。",
    "楼道有杂物，已提醒清理。",
    "独居老人，叮嘱注意用电安全。",
    "反映小区停车难，已记录。",
]
MODES = [VisitMode.HOME] * 6 + [VisitMode.PHONE] * 3 + [VisitMode.MEETING]


def seed_visits(*, rng: random.Random, now: dt.datetime | None = None) -> dict:
    """One or two past visits per household (skipped if any visit exists), then the schedules."""
    if Visit.objects.exists():
        return {"visits": Visit.objects.count(), "skipped": True}
    now = now or timezone.now()
    workers = dict(
        RoleAssignment.objects.filter(role=Role.GRID_WORKER)
        .order_by("user_id")
        .values_list("node_id", "user_id")
    )
    households = list(Household.objects.values_list("pk", "grid_id", "created_at"))
    # Back-date the files: they were opened over the last two years, not today.
    created = {pk: now - dt.timedelta(days=rng.randint(400, 730)) for pk, _g, _c in households}
    with transaction.atomic():
        for pk, when in created.items():
            Household.objects.filter(pk=pk).update(created_at=when)
        schedules = schedules_compute([pk for pk, _g, _c in households], today=now.date())
        visits, visitor_rows = [], []
        for pk, grid_id, _c in households:
            vc = schedules[pk].visit_class
            if vc is None or rng.random() < 0.04:
                continue  # a few households nobody has reached yet
            cycle = max(7.0, vc.approx_days)
            # Mostly inside the cycle; about one in eight a little past it (overdue).
            back = rng.uniform(0.05, 1.15) * cycle
            at = now - dt.timedelta(days=back, hours=rng.randint(0, 8))
            at = at.replace(hour=rng.randint(9, 17), minute=rng.choice([0, 15, 30, 45]))
            visits.append(
                Visit(
                    household_id=pk,
                    grid_id=grid_id,
                    visited_at=at,
                    mode=rng.choice(MODES),
                    seen=rng.choice(SEEN),
                    created_by_id=workers.get(grid_id),
                    created_at=at,
                )
            )
        Visit.objects.bulk_create(visits, batch_size=2000)
        through = Visit.visitors.through
        for v in Visit.objects.filter(created_by__isnull=False).values_list("pk", "created_by_id"):
            visitor_rows.append(through(visit_id=v[0], user_id=v[1]))
        through.objects.bulk_create(visitor_rows, batch_size=5000)
    counts = visit_states_refresh()
    return {"visits": len(visits), "skipped": False, **counts}
