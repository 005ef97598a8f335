"""Demo data of secondments (called by seed_demo after the county, cases and visits exist).

One 组团式支教 team: 县第一中学 sends 8 teachers to the rural school of 青石村 for a 3-year cycle
that began the September before last; teachers serve 1-year turns (five of the first eight stay
for a second turn, three are replaced). Attendance for every school day of the previous and the
current term up to yesterday (mostly present, a few late, on leave or absent), and about fifteen
activities (公开课, 送课下乡, 家访, 讲座, 教研培训).
"""

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from minqing.grids.models import Level, Node
from minqing.registry import demo_names as W
from minqing.secondments.models import (
    Activity,
    ActivityKind,
    Attendance,
    AttendanceStatus,
    MemberRole,
    Secondment,
    SecondmentKind,
    SecondmentMember,
)
from minqing.secondments.selectors import term_of
from minqing.secondments.services import cycle_default_end, turn_last_day

SUBJECTS = ["语文", "数学", "英语", "科学", "音乐", "体育", "美术", "信息技术"]
ACTIVITIES = [
    (ActivityKind.OPEN_CLASS, "{subject}公开课：{topic}", (25, 60)),
    (ActivityKind.OPEN_CLASS, "{subject}示范课", (25, 60)),
    (ActivityKind.SEND_CLASS, "送课到{village}教学点", (20, 80)),
    (ActivityKind.HOME_VISIT, "走访{village}留守儿童家庭", (2, 6)),
    (ActivityKind.LECTURE, "家庭教育讲座", (60, 200)),
    (ActivityKind.TRAINING, "{subject}集体备课与教研", (8, 20)),
]
TOPICS = ["分数的初步认识", "古诗两首", "认识时间", "植物的一生", "Unit 3 My friends"]
VILLAGES = ["上湾", "下岭", "石门", "竹坑"]
NOTES = {"late": ["路上堵车", "山路塌方绕行"], "leave": ["病假", "事假", "参加县里培训"]}


def _name(rng: random.Random) -> str:
    male = rng.random() < 0.45
    given = W.GIVEN_MALE if male else W.GIVEN_FEMALE
    return rng.choice(W.SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2))))


def _teaching_day(d: dt.date) -> bool:
    """School is in: weekdays outside the summer (6 Jul – 31 Aug) and winter (20 Jan – 19 Feb)
    holidays. Close enough for demo attendance."""
    if d.weekday() >= 5:
        return False
    md = (d.month, d.day)
    return not ((7, 6) <= md <= (8, 31) or (1, 20) <= md <= (2, 19))


def _receiving_node() -> Node | None:
    village = Node.objects.filter(level=Level.COMMUNITY, name__endswith="村").order_by("code")
    return village.first() or Node.objects.filter(level=Level.COMMUNITY).order_by("-code").first()


def seed(*, rng: random.Random, now=None) -> dict:
    """Idempotent: returns {"skipped": True} when the demo rows exist already."""
    if Secondment.objects.exists():
        return {"skipped": True, "summary": ""}
    node = _receiving_node()
    if node is None:
        return {"skipped": True, "summary": ""}
    now = now or timezone.now()
    today = timezone.localdate(now)
    year = today.year if today.month >= 9 else today.year - 1
    cycle_start = dt.date(year - 1, 9, 1)
    second_turn = dt.date(year, 9, 1)
    village = node.name
    with transaction.atomic():
        team = Secondment.objects.create(
            kind=SecondmentKind.TEACHING,
            name=f"县第一中学组团式支教团队（{village}小学）",
            sending_name="县第一中学",
            receiving_name=f"{village}小学",
            node=node,
            cycle_start=cycle_start,
            cycle_end=cycle_default_end(cycle_start),
            turn_months=12,
            note="一校一周期三年，教师一年一轮换。",
            created_at=now - dt.timedelta(days=(today - cycle_start).days + 20),
        )
        people = [(_name(rng), f"139{rng.randrange(10**8):08d}") for _ in range(11)]
        members = []
        for i, subject in enumerate(SUBJECTS):
            name, phone = people[i]
            role = MemberRole.LEADER if i == 0 else MemberRole.TEACHER
            members.append(
                SecondmentMember(
                    secondment=team, name=name, phone=phone, role=role, speciality=subject,
                    turn_start=cycle_start, turn_end=turn_last_day(cycle_start, 12),
                )
            )  # fmt: skip
            # Five stay for a second turn (the leader among them); three are replaced.
            if i < 5:
                second = (name, phone)
            else:
                second = people[8 + i - 5]
            members.append(
                SecondmentMember(
                    secondment=team, name=second[0], phone=second[1], role=role,
                    speciality=subject, turn_start=second_turn,
                    turn_end=turn_last_day(second_turn, 12),
                )
            )  # fmt: skip
        SecondmentMember.objects.bulk_create(members)
        members = list(team.members.all())

        # Attendance: the previous term and the current one, up to yesterday.
        current = term_of(today)
        previous = term_of(current.start - dt.timedelta(days=1))
        start = max(previous.start, cycle_start)
        rows = []
        day = start
        while day < today:
            if _teaching_day(day):
                for m in members:
                    if not m.on_turn(day):
                        continue
                    r = rng.random()
                    status = (
                        AttendanceStatus.ABSENT if r < 0.004
                        else AttendanceStatus.LEAVE if r < 0.02
                        else AttendanceStatus.LATE if r < 0.045
                        else AttendanceStatus.PRESENT
                    )  # fmt: skip
                    note = rng.choice(NOTES.get(status, [""]))
                    rows.append(
                        Attendance(member=m, date=day, status=status, note=note, recorded_at=now)
                    )
            day += dt.timedelta(days=1)
        Attendance.objects.bulk_create(rows, batch_size=2000)

        # About fifteen activities on school days of those two terms.
        days = [
            start + dt.timedelta(days=i)
            for i in range((today - start).days)
            if _teaching_day(start + dt.timedelta(days=i))
        ]
        chosen = sorted(rng.sample(days, min(15, len(days))))
        links = []
        for d in chosen:
            kind, title, (low, high) = rng.choice(ACTIVITIES)
            on_turn = [m for m in members if m.on_turn(d)]
            who = rng.sample(on_turn, min(len(on_turn), rng.randint(1, 3)))
            activity = Activity.objects.create(
                secondment=team,
                kind=kind,
                date=d,
                title=title.format(
                    subject=who[0].speciality, topic=rng.choice(TOPICS), village=rng.choice(VILLAGES)
                ),
                place=f"{village}小学" if kind != ActivityKind.HOME_VISIT else f"{village}{rng.choice(VILLAGES)}组",
                participants=rng.randint(low, high),
                created_at=now,
            )  # fmt: skip
            links += [Activity.members.through(activity_id=activity.pk, secondmentmember_id=m.pk)
                      for m in who]  # fmt: skip
        Activity.members.through.objects.bulk_create(links)
    return {
        "skipped": False,
        "summary": f"演示组团派驻已生成：{team.name}，成员 {len(members)} 人次，"
        f"考勤 {len(rows)} 条，活动 {len(chosen)} 次。",
    }
