"""Demo cases: a year of the case loop in the demo county, replayed through the real services.

`seed_cases` adds to a county that `seed_demo` built (or any tree with grids):

- staff for every node that has nobody to act there (a 网格员 per grid, a 社区书记 per community,
  a 街道干部 per street, a 县指挥中心 officer), with unusable passwords: they only appear in the
  history; the demo accounts (grid_a, community …) are used where they exist;
- six departments (城管执法, 环卫所, 派出所, 供水公司, 供电所, 住建局) serving the county, each
  with one member who can log in with the demo password and is assigned nowhere, so they see
  exactly the cases transferred to their department;
- the Open311 client 民安县市民APP, whose key is returned once (seed_demo prints it);
- a 禁建区 over part of the first grid and a 限建区 over part of the second;
- `count` cases accepted over the past year, replayed in time order, with the sweeper run at
  its scheduled times through the year (reminders, lateness, escalation):
  * through services.case_accept / case_act / sweep_deadlines with explicit `now=` times: the
    last FAST_BEFORE_DAYS days, and every story that goes late, is extended or urgent or in
    the 禁建区 (about 30% of the cases);
  * the other, older stories in memory by FastPath, which computes each field, event and
    notification as the services do (with their own clock functions) and saves them in bulk:
    1,500 cases through the services alone take about 57 s of CPU, this way about 22 s.
    test_demo replays the same stories both ways and compares every row: when the services
    change, that test says what FastPath must follow.
  Notifications and extension requests (whose times the services take from the clock) get the
  replayed time; text messages are not sent.

The cases near `now` are left where the year leaves them: some waiting to be registered, some
being handled, some late and escalated, some waiting for the call-back. grid_a's and grid_b's
grids get extra cases, and pinned ones (PINNED) put every state, open and late cases into
their inboxes. Deterministic for a given rng seed, tree and calendar; runs once per county.
"""

import bisect
import hashlib
import heapq
import random
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from minqing.accounts.models import DataScope, Role, RoleAssignment, User
from minqing.cases import services, workflow
from minqing.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseCounter,
    CaseEvent,
    Category,
    Channel,
    ExtensionRequest,
    Notification,
    NotificationKind,
    Open311Client,
    Priority,
    Satisfaction,
    Stage,
    Status,
    Unit,
    ZoneKind,
    ZoningLayer,
)
from minqing.cases.texts import Said, say
from minqing.core.workdays import deadline_after, is_working_day, working_hours_between
from minqing.grids import geo
from minqing.grids.models import Level, Node, subtree_q
from minqing.registry import demo_names as W
from minqing.registry.models import Person
from minqing.registry.services import PermissionDenied

DEMO_PASSWORD = "minqing-demo"
CLIENT_NAME = "民安县市民APP"
DEFAULT_COUNT = 1500
DAYS = 365

# code, name, member username, member name, phone
UNITS = [
    ("cgzf", "城管执法", "chengguan", "城管执法中队 赵刚", "0571-86011001"),
    ("hws", "环卫所", "huanwei", "环卫所 钱丽", "0571-86011002"),
    ("pcs", "派出所", "paichusuo", "城关派出所 孙磊", "0571-86011003"),
    ("gsgs", "供水公司", "gongshui", "供水公司 李建国", "0571-86011004"),
    ("gds", "供电所", "gongdian", "供电所 周涛", "0571-86011005"),
    ("zjj", "住建局", "zhujian", "住建局 吴敏", "0571-86011006"),
]

# category code → topics: (title, description with {place}, department or "" (community
# matter), what was done). Descriptions read as a resident or a grid worker writes them.
TOPICS: dict[str, list[tuple[str, str, str, str]]] = {
    "0101": [
        (
            "垃圾桶满溢无人清运",
            "{place}的垃圾桶满了两天没人清运，气味很大，夏天招苍蝇。",
            "hws",
            "环卫所已清运，并把该点位清运改为每天两次。",
        ),
        (
            "路边倾倒装修垃圾",
            "{place}路边有人倾倒装修垃圾，占了半条人行道。",
            "hws",
            "环卫所已清运建筑垃圾，社区张贴告示并加强巡查。",
        ),
    ],
    "0102": [
        (
            "雨后路面积水",
            "{place}门口一下雨就积水，老人孩子出门要绕行。",
            "zjj",
            "住建局已疏通雨水口并加装一处排水篦子。",
        ),
    ],
    "0103": [
        (
            "餐馆污水直排雨水井",
            "{place}一家餐馆把泔水倒进雨水井，河道发臭。",
            "cgzf",
            "城管执法中队已责令整改并立案处罚，店家已安装隔油池。",
        ),
    ],
    "0104": [
        (
            "烧烤店油烟扰民",
            "{place}楼下烧烤店油烟直排，家里窗户都不敢开。",
            "cgzf",
            "城管已督促店家安装油烟净化器，复查合格。",
        ),
        (
            "广场舞音响声音过大",
            "{place}小广场晚上广场舞音响太响，影响学生写作业。",
            "",
            "网格员协调广场舞队调低音量并约定晚九点前结束。",
        ),
    ],
    "0201": [
        (
            "楼道张贴小广告",
            "{place}楼道里贴满开锁、疏通小广告，刚刷的墙又脏了。",
            "",
            "网格员组织志愿者清理小广告，楼道已恢复整洁。",
        ),
    ],
    "0301": [
        (
            "工地夜间施工噪音",
            "{place}旁边工地晚上十一点还在打桩，吵得睡不着。",
            "cgzf",
            "城管核实无夜间施工许可，已责令停止夜间作业。",
        ),
    ],
    "0302": [
        (
            "违建阳光房",
            "{place}顶楼住户在露台上搭建阳光房，正在施工。",
            "cgzf",
            "城管执法中队已下达限期拆除通知，当事人已自行拆除。",
        ),
        (
            "楼顶私搭彩钢棚",
            "{place}楼顶有人私搭彩钢棚，担心台风天被刮落。",
            "cgzf",
            "城管已督促拆除彩钢棚，现场复查已恢复原状。",
        ),
    ],
    "0303": [
        (
            "农户违法加层",
            "{place}有农户在原房屋上加盖第四层，没有审批手续。",
            "cgzf",
            "城管执法中队已立案查处，违法加层部分已拆除。",
        ),
        (
            "空地上违法建房",
            "{place}边上的空地有人打地基准备建房。",
            "cgzf",
            "经核实属违法建设，已制止并拆除地基。",
        ),
    ],
    "0401": [
        (
            "楼道电动车飞线充电",
            "{place}有住户从楼上拉电线下来给电动车充电，很危险。",
            "",
            "网格员上门劝导并拆除飞线，引导到集中充电桩充电。",
        ),
        (
            "楼道堆物堵塞消防通道",
            "{place}楼道里堆满纸箱和旧家具，消防通道走不通。",
            "",
            "网格员联系住户清理楼道堆物，消防通道已畅通。",
        ),
    ],
    "0402": [
        (
            "人行道地砖塌陷",
            "{place}人行道地砖塌了一个坑，晚上有人差点摔倒。",
            "zjj",
            "住建局已设置警示并修复塌陷路面。",
        ),
    ],
    "0501": [
        (
            "流动摊贩占道经营",
            "{place}早上有很多流动摊贩占道卖菜，车都开不过去。",
            "cgzf",
            "城管已劝导摊贩进入农贸市场经营，早高峰加强巡查。",
        ),
    ],
    "0502": [
        (
            "共享单车乱停堵塞盲道",
            "{place}共享单车乱停，把盲道和出入口都堵住了。",
            "cgzf",
            "城管已联系运营企业清运车辆并划定停放区。",
        ),
        (
            "车辆长期占用消防通道",
            "{place}有辆车长期停在消防通道上，联系不到车主。",
            "pcs",
            "派出所已联系车主挪车并进行教育。",
        ),
    ],
    "0601": [
        (
            "路灯不亮",
            "{place}一排路灯好几天不亮了，晚上走路黑乎乎的。",
            "cgzf",
            "路灯维修班已更换灯具，路灯恢复照明。",
        ),
        (
            "小区门口路灯损坏",
            "{place}门口的路灯杆被车撞歪，灯也不亮了。",
            "cgzf",
            "已扶正灯杆并更换灯头。",
        ),
    ],
    "0602": [
        (
            "井盖破损",
            "{place}路中间一个井盖碎了，车压过去哐哐响，怕有人掉下去。",
            "zjj",
            "住建局已设置围挡并更换新井盖。",
        ),
    ],
    "0603": [
        (
            "下水道堵塞",
            "{place}下水道堵了，污水从井口冒出来流到路上。",
            "zjj",
            "已组织疏通管道，污水已退去，路面已冲洗。",
        ),
        ("化粪池满溢", "{place}化粪池满溢，整栋楼都是臭味。", "hws", "环卫所已抽运化粪池并消毒。"),
    ],
    "0604": [
        (
            "水管爆裂停水",
            "{place}路边水管爆了，整栋楼停水。",
            "gsgs",
            "供水公司已抢修管道并恢复供水。",
        ),
        (
            "小区停电",
            "{place}晚上突然停电，单元里还有老人用制氧机。",
            "gds",
            "供电所已抢修更换变压器熔丝，恢复供电。",
        ),
    ],
    "0701": [
        (
            "邻里噪音纠纷",
            "{place}楼上住户晚上经常拖动桌椅、跳绳，楼下老人睡不好，双方吵过几次。",
            "",
            "网格员和调解员上门调解，双方达成约定，楼上加铺地垫。",
        ),
        (
            "楼上漏水引发纠纷",
            "{place}楼上卫生间漏水渗到楼下天花板，两家为维修费用争执。",
            "",
            "社区组织调解，楼上住户已修复防水并赔偿楼下粉刷费用。",
        ),
        (
            "停车位纠纷",
            "{place}两户居民为地面停车位发生争执，差点动手。",
            "pcs",
            "派出所民警与网格员联合调解，双方已和解。",
        ),
    ],
    "0702": [
        (
            "独居老人需要助餐",
            "{place}独居老人腿脚不便，做饭困难，希望社区帮忙送餐。",
            "",
            "已为老人办理老年食堂助餐服务，志愿者每天送餐上门。",
        ),
        (
            "困难家庭申请临时救助",
            "{place}一户居民家中突发重病，生活困难，申请临时救助。",
            "",
            "社区已协助提交临时救助申请，救助金已发放。",
        ),
    ],
    "0703": [
        (
            "咨询城乡居民医保缴费",
            "{place}居民咨询明年城乡居民医保缴费时间和标准。",
            "",
            "网格员已当面解答缴费时间、标准和线上缴费方式。",
        ),
        (
            "咨询高龄津贴申领",
            "{place}一位老人今年满80周岁，咨询高龄津贴怎么申领。",
            "",
            "已告知申领材料并代为提交申请。",
        ),
    ],
    "0704": [
        (
            "失业人员求职登记",
            "{place}居民失业半年，希望社区帮忙推荐工作。",
            "",
            "已办理失业登记并推荐到辖区企业面试，已上岗。",
        ),
    ],
    "0705": [
        (
            "电梯经常故障物业不修",
            "{place}电梯一个月坏了三次，物业一直拖着不修。",
            "zjj",
            "住建局约谈物业公司，电梯已大修并通过检验。",
        ),
        (
            "楼道堆物",
            "{place}公共楼道被住户长期堆放杂物，物业劝不动。",
            "",
            "网格员联合物业上门劝导，杂物已清理。",
        ),
    ],
    "0706": [
        (
            "拆迁补偿问题",
            "{place}居民反映征迁补偿款迟迟未到位。",
            "zjj",
            "住建局已核实补偿款发放进度，款项已到账。",
        ),
    ],
    "0707": [
        (
            "建议增设健身器材",
            "{place}小区老人多，建议在空地上增设健身器材。",
            "",
            "社区已申请体育彩票公益金，健身器材已安装。",
        ),
        (
            "建议增设公交站点",
            "{place}附近没有公交站，建议增设站点方便出行。",
            "zjj",
            "已转交交通部门研究，新线路已增设站点。",
        ),
    ],
}
# How often each category comes up (out of roughly 100).
CATEGORY_WEIGHTS = {
    "0101": 8, "0102": 3, "0103": 2, "0104": 7, "0201": 4, "0301": 3, "0302": 4, "0303": 2,
    "0401": 6, "0402": 2, "0501": 4, "0502": 5, "0601": 8, "0602": 3, "0603": 6, "0604": 3,
    "0701": 9, "0702": 5, "0703": 4, "0704": 2, "0705": 6, "0706": 1, "0707": 3,
}  # fmt: skip
# Where cases come from: channel, who accepts it, weight (working days; days off: online only).
CHANNELS = [
    (Channel.PATROL, "grid", 22),
    (Channel.VISIT, "grid", 18),
    (Channel.PHONE, "grid", 12),
    (Channel.WALK_IN, "community", 8),
    (Channel.RECEPTION, "community", 5),
    (Channel.ONLINE, "public", 17),
    (Channel.HOTLINE, "county", 15),
    (Channel.PETITION, "street", 3),
]
ACCEPTOR_LEVEL = {
    "grid": Level.GRID,
    "community": Level.COMMUNITY,
    "street": Level.STREET,
    "county": Level.COUNTY,
}
# Pinned open cases in the first two grids: (working hours ago, stop before, late, acceptor,
# topic). Late ones have been escalated by the sweeper but are still their grid worker's to do.
PINNED = [
    (26.5, "feedback", False, "grid", ("0701", 1)),  # due soon: past the 80% reminder
    (60, "feedback", True, "grid", ("0701", 0)),  # late, escalated to the street
    (40, "feedback", True, "grid", ("0702", 0)),  # late, escalated to the community
    (1, "register", False, "public", ("0101", 0)),  # a resident's report to register
    (6, "feedback", False, "grid", ("0401", 1)),  # on time
    (4, "verify", False, "grid", ("0603", 0)),  # the department fed back: check it
    (3, "start", False, "grid", ("0101", 1)),  # transferred, not started by 环卫所 yet
    (5, "assign", False, "grid", ("0706", 0)),  # escalated, waiting for the community
    (8, "rate", False, "grid", ("0703", 0)),  # closed, waiting for the call-back
    (7, "", False, "public", ("0201", 0)),  # cancelled (a duplicate)
]
# Older plain cases go the fast path; the recent weeks and every unusual story, the services.
FAST_BEFORE_DAYS = 45
# What the sweeper may have changed on a case between two of its steps.
FRESH = (
    "status", "level_node_id", "handler_user_id", "handler_unit_id", "deadline", "version",
    "extension_pending",
)  # fmt: skip
URGENT_TOPICS = {"水管爆裂停水", "小区停电", "人行道地砖塌陷", "井盖破损", "楼道电动车飞线充电"}

CANCEL_NOTES = [
    "重复反映，已并入前一案件办理。",
    "经核实不属于本辖区事项，已告知反映人向相关部门反映。",
    "反映人来电撤回诉求。",
]
ESCALATE_NOTES = [
    "涉及多个部门，网格无法协调解决，申请上报。",
    "问题较复杂，需要上级协调处理。",
]
EXTEND_NOTES = ["需要等待配件到货。", "涉及产权单位，需要协调后处理。", "需要上级部门审批。"]
SUPERVISE_NOTES = ["群众反映强烈，请加快办理。", "请于时限内办结并及时反馈。"]
DECLINE_NOTES = ["不属于本单位职责，请重新派遣。", "地址有误，请核实后重新派遣。"]
REWORK_NOTES = ["现场核查问题仍未解决，退回重新处置。", "整改不彻底，请重新处置。"]
RATING_NOTES = {
    Satisfaction.SATISFIED: ["", "", "处理很及时，谢谢。", "网格员很负责。"],
    Satisfaction.FAIRLY: ["", "处理得有点慢。", "基本解决了。"],
    Satisfaction.UNSATISFIED: ["问题还没有彻底解决。", "过几天又出现了。"],
}


@dataclass
class Plan:
    """What happens to one case, drawn up front so the year replays deterministically."""

    at: datetime
    grid: Node
    category: Category
    title: str
    description: str
    unit: str
    result: str
    channel: str
    acceptor: str  # grid / community / street / county / public
    address: str
    lat: Decimal | None = None
    lng: Decimal | None = None
    priority: str = Priority.NORMAL
    reporter: Person | None = None
    reporter_name: str = ""
    reporter_phone: str = ""
    anonymous: bool = False
    route: str = "take"  # take / dispatch / transfer
    slow_start: bool = False  # not registered or dispatched in time
    cancel: bool = False
    escalate: bool = False
    decline: bool = False
    extend: bool = False
    supervise: bool = False
    late: bool = False  # the handler runs past the deadline
    rework: int = 0
    ratings: list[str] = field(default_factory=lambda: [Satisfaction.SATISFIED])
    stop_before: str = ""  # leave the case open before this step (pinned open cases)
    brisk: bool = False  # every step within the hour (pinned cases that must be on time)
    flagged: bool = False  # a 违法建设 case inside the 禁建区
    fast: bool = False  # replayed in memory (FastPath), saved in bulk
    seed: int = 0  # of this story's own random draws

    def fits_fast_path(self) -> bool:
        """Never late, never extended, not urgent or flagged: the fast path can replay it."""
        return not (
            self.slow_start or self.late or self.extend or self.priority == Priority.URGENT
            or self.flagged or self.stop_before or self.brisk
        )  # fmt: skip


class _Stop(Exception):
    """The case's story cannot go on (nobody to act, or the fast path met a late stage)."""


# --- the fast path --------------------------------------------------------------------------


class FastPath:
    """The loop in memory: what services.case_accept / case_act and the sweeper's reminders
    write for accept, register, take, dispatch, transfer, decline, start, feedback, rework,
    verify, rate (and reopen), cancel, escalate and supervise, computed with the services' own
    clock functions (limit_for, deadline_after, _set_reminder …) and saved in bulk at the end.

    Stories that go late, ask for an extension or are urgent (Plan.fits_fast_path) are left to
    the services: lateness and escalation by the sweeper are not reproduced here, and a step
    that would meet them stops the story (a problem the tests check for). test_demo replays the
    same stories both ways and compares every field, event and notification.
    """

    def __init__(self, replay: "Replay"):
        self.r = replay
        self.cases: list[Case] = []
        self.events: dict[int, list[CaseEvent]] = {}  # id(case) → its events
        self.notifications: dict[int, list[Notification]] = {}
        self.actor_pk: int | None = None  # who takes the action being replayed
        self.last: dict[int, datetime] = {}
        self.limits: dict[tuple, tuple[int, int]] = {}
        staff_at = {}
        for node_id, rows in replay.staff.items():
            # As services.level_staff: those who work cases (not a cadre) are told.
            told = {u.pk: u for u, role in rows if u.is_active and role in workflow.ALL_STAFF}
            staff_at[node_id] = list(told.values())
        self.staff_at = staff_at
        self.holding: dict[int, list[Node]] = {}

    # the services' helpers, without the queries they repeat for every case

    def limit(self, case: Case, stage: str) -> tuple[int, int]:
        key = (stage, case.category_id, case.case_type, case.priority, case.channel)
        if key not in self.limits:
            self.limits[key] = services.limit_for(case, stage)
        return self.limits[key]

    def start_clock(self, case: Case, stage: str, now: datetime) -> None:
        days, hours = self.limit(case, stage)
        case.stage = stage
        case.stage_started_at = now
        case.deadline = deadline_after(now, days=days, hours=hours)
        services._set_reminder(case, now)

    def level_staff(self, node: Node) -> list[User]:
        return self.staff_at.get(node.pk, [])

    def responsible(self, case: Case) -> list[User]:
        if case.handler_user_id and case.status in (Status.DISPATCHED, Status.HANDLING):
            return [case.handler_user]
        if case.handler_unit_id and case.status in (Status.DISPATCHED, Status.HANDLING):
            return self.r.unit_members[case.handler_unit_id]
        return self.level_staff(case.level_node)

    def notify(self, users, case: Case, kind: str, said: Said, at: datetime) -> None:
        for u in users:
            if u.is_active and u.pk != self.actor_pk:  # as services._notify: not one's own act
                n = services._notification(u, case, kind, said)
                n.created_at = at
                self.notifications[id(case)].append(n)

    def event(self, case: Case, **kw) -> None:
        kw.setdefault("to_status", case.status)
        said = kw.get("note")
        if isinstance(said, Said):
            kw.update(note=said.text, note_key=said.key, note_args=said.args)
        self.events[id(case)].append(CaseEvent(case=case, **kw))

    def holding_node(self, user: User, grid: Node) -> Node:
        if user.pk not in self.holding:
            self.holding[user.pk] = [a.node for a in user.assignments.select_related("node")]
        best = None
        for node in self.holding[user.pk]:
            if grid.path.startswith(node.path) and (best is None or node.level > best.level):
                best = node
        return best or grid

    # the sweeper, between two steps of one case

    def catch_up(self, case: Case, t: datetime) -> None:
        """What the sweeps at the ticks in (last step, t] did to this case: a reminder."""
        ticks = self.r.ticks
        i = bisect.bisect_right(ticks, self.last[id(case)])
        while i < len(ticks) and ticks[i] <= t:
            s = ticks[i]
            due = case.next_check_at
            if case.status not in OPEN_STATUSES or due is None or due > s:
                i = bisect.bisect_left(ticks, due, lo=i + 1) if due and due > s else len(ticks)
                continue
            if case.deadline is None or s > case.deadline:
                raise _Stop("fast path: the case would be late")
            if not case.reminded and case.remind_at and case.remind_at <= s:
                case.reminded = True
                self.notify(self.responsible(case), case, NotificationKind.REMINDER,
                            say("reminder", number=case.number, title=case.title,
                                deadline=case.deadline), s)  # fmt: skip
                self.event(case, actor=None, actor_label=services.SYSTEM, action="remind", at=s,
                           public=False, note=say("log_reminder"))  # fmt: skip
                self.r.sweeps["reminded"] += 1
            case.next_check_at = case.deadline + timedelta(microseconds=1)
            i += 1

    # the steps

    def accept(self, p: "Plan", user: User | None, t: datetime) -> Case:
        case = Case(
            number=self.r.next_number(t), accepted_at=t, updated_at=t, created_by=user,
            source_client="" if user else CLIENT_NAME, open311_client=None if user else self.r.client,
            title=p.title, description=p.description,
            address=p.address, category=p.category, channel=p.channel,
            case_type=p.category.default_type, priority=p.priority, lat=p.lat, lng=p.lng,
            reporter=p.reporter, reporter_name=p.reporter.name if p.reporter else p.reporter_name,
            anonymous=p.anonymous, household=None, grid=p.grid,
        )  # fmt: skip
        case.reporter_phone = p.reporter_phone
        phone = p.reporter_phone or (p.reporter.phone if p.reporter else "")
        case.reporter_phone_last4 = phone[-4:] if len(phone) >= 4 else ""
        case.level_node = self.holding_node(user, p.grid) if user else p.grid
        case.zoning = self.r.zone_of(p.lat, p.lng)
        if case.zoning == ZoneKind.NO_BUILD and services._zoning_sensitive(p.category):
            raise _Stop("fast path: a flagged case")
        self.cases.append(case)
        self.events[id(case)], self.notifications[id(case)] = [], []
        self.last[id(case)] = t
        self.start_clock(case, Stage.REGISTER, t)
        self.event(case, actor=user, actor_label="" if user else CLIENT_NAME, action="accept",
                   at=t, to_status=Status.ACCEPTED, to_node=case.level_node)  # fmt: skip
        if user is not None:
            return self.act(case, "register", t, user)
        self.actor_pk = None  # a resident's report (an act stopped halfway may have left one)
        self.notify(self.level_staff(case.level_node), case, NotificationKind.ASSIGNED,
                    say("accepted", number=case.number, title=case.title), t)  # fmt: skip
        return case

    def act(self, case: Case, action: str, t: datetime, user: User, *, note: str = "",
            target_user=None, target_unit=None, satisfaction: str = "") -> Case:  # fmt: skip
        note = (note or "").strip()
        self.actor_pk = None  # the sweeps caught up on are nobody's
        self.catch_up(case, t)
        self.actor_pk = user.pk
        self.last[id(case)] = t
        name, transition = action, workflow.TRANSITIONS[action]
        if not services.can_act(user, case, action):
            raise PermissionDenied(services.ERR_NOT_ALLOWED.format(action=transition.label))
        from_status, from_node = case.status, case.level_node
        event_note = note
        if action == "register":
            services._registered(case, t)
            case.status = Status.REGISTERED
            self.start_clock(case, Stage.DISPATCH, t)
        elif action in ("take", "dispatch", "transfer"):
            case.handler_user = user if action == "take" else target_user
            case.handler_unit = target_unit if action == "transfer" else None
            services._handed_over(case, t, self.start_clock)
            if action == "dispatch":
                self.notify([target_user], case, NotificationKind.ASSIGNED,
                            say("dispatched", number=case.number, title=case.title,
                                deadline=case.deadline), t)  # fmt: skip
            elif action == "transfer":
                self.notify(self.r.unit_members[target_unit.pk], case, NotificationKind.ASSIGNED,
                            say("transferred", unit=target_unit.name, number=case.number,
                                title=case.title, deadline=case.deadline), t)  # fmt: skip
        elif action == "start":
            if case.handler_user_id is None:
                case.handler_user = user
        elif action == "feedback":
            case.result = note
            case.status = Status.FED_BACK
            services._fed_back(case, t, self.start_clock)
            self.notify(self.level_staff(case.level_node), case, NotificationKind.FEEDBACK,
                        say("fed_back", number=case.number), t)  # fmt: skip
        elif action == "verify":
            case.answer = note or case.result
            case.closed_at = t
            case.status = Status.CLOSED
            case.closed_on_time = case.handle_deadline is None or t <= case.handle_deadline
            start = case.dispatched_at or case.registered_at or case.accepted_at
            case.handling_hours = round(working_hours_between(start, t), 2)
            services._stop_clock(case)
        elif action == "rate":
            case.satisfaction = satisfaction
            case.rating_note = note[:500]
            event_note = say("log_rated", satisfaction=satisfaction, note=note)
            if satisfaction == Satisfaction.UNSATISFIED and not case.reopened:
                case.reopened = True
                case.status = Status.REGISTERED
                case.closed_at = case.closed_on_time = None
                case.handler_user = case.handler_unit = None
                case.dispatched_at = case.handle_deadline = None
                self.start_clock(case, Stage.DISPATCH, t)
                action = "reopen"
                self.notify(self.level_staff(case.level_node), case, NotificationKind.REOPENED,
                            say("reopened", number=case.number), t)  # fmt: skip
            else:
                case.status = Status.RATED
        elif action == "cancel":
            case.cancel_reason = note[:200]
            case.closed_at = t
            services._stop_clock(case)
        elif action == "decline":
            case.decline_count += 1
            case.handler_user = case.handler_unit = None
            case.dispatched_at = case.handle_deadline = None
            self.start_clock(case, Stage.DISPATCH, t)
            # The holders and whoever dispatched it last hear of it, not the one declining.
            told = {u.pk: u for u in self.level_staff(case.level_node)}
            last = next(
                (e.actor for e in reversed(self.events[id(case)])
                 if e.action in ("dispatch", "transfer") and e.actor is not None),
                None,
            )  # fmt: skip
            if last is not None and last.is_active:
                told.setdefault(last.pk, last)
            told.pop(user.pk, None)
            self.notify(told.values(), case, NotificationKind.ASSIGNED,
                        say("declined", number=case.number), t)  # fmt: skip
        elif action == "rework":
            case.rework_count += 1
            case.status = Status.HANDLING
            case.fed_back_at = None
            self.start_clock(case, Stage.HANDLE, t)
            if case.handle_deadline and case.handle_deadline > case.deadline:
                case.deadline = case.handle_deadline
                services._set_reminder(case, t)
            self.notify(self.responsible(case), case, NotificationKind.REOPENED,
                        say("reworked", number=case.number), t)  # fmt: skip
        elif action == "supervise":
            case.supervise_count += 1
            self.notify(self.responsible(case), case, NotificationKind.SUPERVISED,
                        say("supervised", number=case.number, note=note), t)  # fmt: skip
        elif action == "escalate":
            parent = self.r.nodes[case.level_node.parent_id]
            while parent.level == Level.ZONE and parent.parent_id:
                parent = self.r.nodes[parent.parent_id]
            case.level_node = parent
            case.escalation_count += 1
            message = say("escalated", number=case.number, title=case.title, node=parent.name)
            self.notify(self.level_staff(parent), case, NotificationKind.ESCALATED, message, t)
            case.status = Status.REGISTERED
            services._registered(case, t)
            case.handler_user = case.handler_unit = None
            case.dispatched_at = case.handle_deadline = None
            self.start_clock(case, Stage.DISPATCH, t)
        else:
            raise _Stop(f"fast path: {action} is not replayed here")
        if transition.target is not None and case.status == from_status and name != "rate":
            case.status = transition.target
        case.version += 1
        case.updated_at = t
        self.event(case, actor=user, action=action, at=t, from_status=from_status,
                   from_node=from_node, to_node=case.level_node, target_user=target_user,
                   target_unit=target_unit, note=event_note)  # fmt: skip
        self.actor_pk = None
        return case

    def save(self) -> None:
        Case.objects.bulk_create(self.cases, batch_size=500)
        CaseEvent.objects.bulk_create(
            [e for c in self.cases for e in self._bind(c, self.events[id(c)])], batch_size=2000
        )
        Notification.objects.bulk_create(
            [n for c in self.cases for n in self._bind(c, self.notifications[id(c)])],
            batch_size=2000,
        )

    @staticmethod
    def _bind(case: Case, rows: list) -> list:
        for row in rows:
            row.case = case  # sets case_id now that the case has one
        return rows


# --- the replay -----------------------------------------------------------------------------


class Replay:
    """A year of cases in one county: setup() the people and layers, draw the plans, run()
    their stories in time order with the sweeper in between. Use inside replaying()."""

    def __init__(self, *, county: Node, count: int, now: datetime, rng: random.Random):
        self.county, self.count, self.now, self.rng = county, count, now, rng
        self.problems: Counter = Counter()
        self.actions: Counter = Counter()
        self.sweeps: Counter = Counter()
        self.paths: Counter = Counter()
        self.key = ""
        self.client: Open311Client | None = None
        self.clock = now
        self.fast_days = FAST_BEFORE_DAYS
        self.counters: dict[date, int] = {}
        self.dirty_days: set[date] = set()

    # ------------------------------------------------------------------ setting up

    def load_tree(self) -> None:
        nodes = list(Node.objects.filter(subtree_q(self.county.path)).exclude(level=Level.BUILDING))
        self.nodes = {n.pk: n for n in nodes}
        self.grids = sorted((n for n in nodes if n.level == Level.GRID), key=lambda n: n.path)
        self.by_level = {
            lv: sorted((n for n in nodes if n.level == lv), key=lambda n: n.path) for lv in Level
        }

    def ancestry(self, node: Node) -> list[Node]:
        """node, its parent, … up to the county (zones included)."""
        out = []
        while node is not None:
            out.append(node)
            node = self.nodes.get(node.parent_id)
        return out

    def ensure_staff(self) -> None:
        """Somebody to act at every node: the existing staff, else a history-only account."""
        self.staff: dict[int, list[tuple[User, str]]] = {}
        rows = RoleAssignment.objects.filter(node__in=list(self.nodes), user__is_active=True)
        for a in rows.select_related("user").order_by("user__is_superuser", "user__username"):
            self.staff.setdefault(a.node_id, []).append((a.user, a.role))
        wanted = [
            (Level.COUNTY, Role.COUNTY_OFFICER, "co"),
            (Level.STREET, Role.STREET_OFFICER, "so"),
            (Level.COMMUNITY, Role.COMMUNITY_SECRETARY, "cs"),
            (Level.GRID, Role.GRID_WORKER, "gw"),
        ]
        self.created_staff = 0
        for level, role, prefix in wanted:
            for node in self.by_level[level]:
                if any(r == role for _, r in self.staff.get(node.pk, [])):
                    continue
                username = f"{prefix}_{node.code}"
                user = User.objects.filter(username=username).first()
                if user is None:
                    # Named from its node, so the year's draws do not depend on who exists.
                    name = self.person_name(random.Random(username))
                    user = User(username=username, full_name=name)
                    user.set_unusable_password()
                    user.save()
                    self.created_staff += 1
                RoleAssignment.objects.get_or_create(
                    user=user, node=node, role=role,
                    defaults={"data_scope": DataScope.NODE_AND_BELOW},
                )  # fmt: skip
                self.staff.setdefault(node.pk, []).append((user, role))
        # One object per user, so the services' per-user caches (scope, assignments) hold.
        self.users = {}
        for rows_at in self.staff.values():
            for i, (user, role) in enumerate(rows_at):
                rows_at[i] = (self.users.setdefault(user.pk, user), role)

    def ensure_units(self) -> None:
        self.units: dict[str, Unit] = {}
        self.unit_member: dict[int, User] = {}  # who acts for the department
        self.unit_members: dict[int, list[User]] = {}  # who it notifies
        password = make_password(DEMO_PASSWORD)  # hashed once for the six members
        for code, name, username, member_name, phone in UNITS:
            unit, _ = Unit.objects.get_or_create(
                code=code, defaults={"name": name, "node": self.county, "phone": phone}
            )
            member = User.objects.filter(username=username).first()
            if member is None:
                member = User.objects.create(
                    username=username, full_name=member_name, password=password
                )
            unit.members.add(member)
            self.units[code] = unit
            self.unit_member[unit.pk] = self.users.setdefault(member.pk, member)
            self.unit_members[unit.pk] = [
                self.users.setdefault(m.pk, m)
                for m in unit.members.filter(is_active=True).order_by("pk")
            ]

    def ensure_client(self) -> None:
        self.client = Open311Client.objects.filter(name=CLIENT_NAME).first()
        if self.client is not None:
            return
        raw = "o311_" + secrets.token_urlsafe(24)
        self.client = Open311Client.objects.create(
            name=CLIENT_NAME,
            key_digest=hashlib.sha256(raw.encode()).hexdigest(),
            key_prefix=raw[:8],
        )
        self.key = raw

    def ensure_zoning(self) -> None:
        """禁建区 over the north-east quarter of the first grid, 限建区 over half the second."""
        specs = [
            (ZoneKind.NO_BUILD, "滨河生态保护带（禁建区）", 0, (0.5, 0.5, 1.0, 1.0)),
            (ZoneKind.RESTRICTED, "老城风貌协调区（限建区）", 1, (0.0, 0.5, 1.0, 1.0)),
        ]
        self.no_build_box = None
        for kind, name, index, (fx0, fy0, fx1, fy1) in specs:
            if index >= len(self.grids) or not self.grids[index].boundary:
                continue
            x0, y0, x1, y1 = geo.bbox(self.grids[index].boundary)
            box = (x0 + (x1 - x0) * fx0, y0 + (y1 - y0) * fy0,
                   x0 + (x1 - x0) * fx1, y0 + (y1 - y0) * fy1)  # fmt: skip
            if kind == ZoneKind.NO_BUILD:
                self.no_build_box = (self.grids[index], box)
            if not ZoningLayer.objects.filter(name=name).exists():
                ring = [[box[0], box[1]], [box[2], box[1]], [box[2], box[3]],
                        [box[0], box[3]], [box[0], box[1]]]  # fmt: skip
                ZoningLayer.objects.create(
                    kind=kind,
                    name=name,
                    geometry={
                        "type": "Polygon",
                        "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]],
                    },
                )
        self.layers = [
            (layer.kind, layer.geometry)
            for layer in ZoningLayer.objects.filter(active=True).only("kind", "geometry")
        ]

    def zone_of(self, lat, lng) -> str:
        """services.zone_of with the layers read once."""
        if lat is None or lng is None:
            return ""
        for kind in (ZoneKind.NO_BUILD, ZoneKind.RESTRICTED, ZoneKind.BUILDABLE, ZoneKind.BUILT):
            for k, geometry in self.layers:
                if k == kind and geo.point_in_geometry(float(lng), float(lat), geometry):
                    return kind
        return ""

    def next_number(self, t: datetime) -> str:
        """The next case number of t's day, as services._next_number hands them out: counted
        here for the fast path and written to CaseCounter before the services number a case
        of that day (flush_counter) and at the end."""
        day = timezone.localdate(t)
        if day not in self.counters:
            row = CaseCounter.objects.filter(day=day).first()
            self.counters[day] = row.last if row else 0
        self.counters[day] += 1
        self.dirty_days.add(day)
        return f"{day:%Y%m%d}-{self.counters[day]:06d}"

    def flush_counter(self, day: date | None = None) -> None:
        for d in [day] if day else sorted(self.dirty_days):
            if d in self.dirty_days:
                CaseCounter.objects.update_or_create(day=d, defaults={"last": self.counters[d]})
                self.dirty_days.discard(d)

    def counted(self, case: Case) -> None:
        """A case the services numbered: the counter of its day moved on."""
        day = timezone.localdate(case.accepted_at)
        self.counters[day] = max(self.counters.get(day, 0), int(case.number.rsplit("-", 1)[1]))

    # ------------------------------------------------------------------ drawing the plans

    def person_name(self, rng: random.Random | None = None) -> str:
        rng = rng or self.rng
        surname = rng.choices(W.SURNAMES, weights=W.SURNAME_WEIGHTS)[0]
        pool = W.GIVEN_MALE if rng.random() < 0.5 else W.GIVEN_FEMALE
        given = rng.choice(pool)
        if rng.random() < 0.6:
            given += rng.choice(pool + W.GIVEN_ANY)
        return surname + given

    def phone(self) -> str:
        return f"1{self.rng.choice('35789')}{self.rng.randrange(10**9):09d}"

    def point_in(self, grid: Node, box=None) -> tuple[Decimal | None, Decimal | None]:
        if not grid.boundary:
            return None, None
        x0, y0, x1, y1 = box or geo.bbox(grid.boundary)
        for _ in range(50):
            # Off the edges: a point on a line two grids share belongs to the first of them.
            x = x0 + (x1 - x0) * self.rng.uniform(0.04, 0.96)
            y = y0 + (y1 - y0) * self.rng.uniform(0.04, 0.96)
            lat, lng = Decimal(f"{y:.6f}"), Decimal(f"{x:.6f}")
            if geo.point_in_geometry(float(lng), float(lat), grid.boundary):
                return lat, lng
        return None, None

    def people_of(self, grid: Node) -> list[Person]:
        if grid.pk not in self.people:
            self.people[grid.pk] = list(
                Person.objects.filter(grid=grid, phone_last4__gt="")
                .order_by("pk")
                .only("pk", "name", "phone")[:30]
            )
        return self.people[grid.pk]

    def moment(self, day: date) -> datetime:
        """A time in office hours on that day."""
        minute = self.rng.randrange(8 * 60 + 30, 17 * 60 + 20)
        return _local(day) + timedelta(minutes=minute)

    def draw_plan(self, at: datetime, grid: Node) -> Plan:
        rng = self.rng
        codes = list(CATEGORY_WEIGHTS)
        code = rng.choices(codes, weights=[CATEGORY_WEIGHTS[c] for c in codes])[0]
        title, text, unit, result = rng.choice(TOPICS[code])
        category = self.categories[code]
        road = rng.choice(W.ROADS)
        place = f"{road}{rng.randint(1, 300)}号"
        if code in ("0701", "0702", "0705", "0401", "0201"):
            place = f"{road}{rng.randint(1, 200)}号{rng.randint(1, 6)}幢"
        lat, lng = self.point_in(grid)
        if code in ("0302", "0303") and self.no_build_box and self.no_build_box[0] == grid:
            if rng.random() < 0.6:  # most violations in that grid are in the 禁建区
                lat, lng = self.point_in(grid, self.no_build_box[1])
        if not is_working_day(timezone.localdate(at)):
            channel, acceptor = Channel.ONLINE, "public"
            at = _local(timezone.localdate(at)) + timedelta(minutes=rng.randrange(7 * 60, 22 * 60))
        else:
            channel, acceptor = rng.choices(CHANNELS, weights=[w for *_, w in CHANNELS])[0][:2]
        plan = Plan(
            at=min(at, self.now - timedelta(minutes=10)), grid=grid, category=category,
            title=title, description=text.format(place=place), unit=unit, result=result,
            channel=channel, acceptor=acceptor, address=place, lat=lat, lng=lng,
            seed=rng.getrandbits(64),
        )  # fmt: skip
        plan.flagged = code in self.sensitive and self.zone_of(lat, lng) == ZoneKind.NO_BUILD
        if title in URGENT_TOPICS and rng.random() < 0.6:
            plan.priority = Priority.URGENT
        if channel == Channel.PATROL:
            pass  # found by the grid worker on the round: nobody reported it
        elif code in ("0303", "0302", "0103") and rng.random() < 0.4:
            plan.anonymous = True
        elif rng.random() < 0.35 and self.people_of(grid):
            plan.reporter = rng.choice(self.people_of(grid))
        else:
            plan.reporter_name = self.person_name()
            plan.reporter_phone = self.phone()
        # Community matters stay in the community; department matters are mostly transferred,
        # small ones fixed by the grid worker on the spot.
        if unit:
            plan.route = "transfer" if rng.random() < 0.8 else "take"
        else:
            plan.route = "take" if rng.random() < 0.7 else "dispatch"
        r = rng.random
        plan.cancel = r() < 0.03
        plan.slow_start = r() < 0.02
        plan.escalate = acceptor in ("grid", "public") and r() < 0.05
        plan.decline = plan.route == "transfer" and r() < 0.06
        plan.extend = r() < 0.06
        plan.supervise = r() < 0.05
        plan.late = r() < 0.05
        plan.rework = 1 if r() < 0.06 else 0
        plan.ratings = [self.satisfaction()]
        if plan.ratings[0] == Satisfaction.UNSATISFIED:
            plan.ratings.append(self.satisfaction())
        return plan

    def satisfaction(self) -> str:
        return self.rng.choices(
            [Satisfaction.SATISFIED, Satisfaction.FAIRLY, Satisfaction.UNSATISFIED],
            weights=[84, 11, 5],
        )[0]

    def working_hours_before(self, hours: float) -> datetime:
        """A moment that many working hours before now."""
        t, step = self.now, timedelta(minutes=15)
        while hours > 0:
            t -= step
            if working_hours_between(t, t + step) > 0:
                hours -= 0.25
        return t

    def pinned(self) -> list[Plan]:
        """What grid_a's and grid_b's workers find in their inboxes this morning."""
        out = []
        for grid, specs in zip(self.grids[:2], (PINNED, PINNED[:4]), strict=False):
            for hours, stop, late, acceptor, (code, index) in specs:
                plan = self.draw_plan(self.working_hours_before(hours), grid)
                title, text, unit, result = TOPICS[code][index]
                plan.category = self.categories[code]
                plan.title, plan.unit, plan.result = title, unit, result
                plan.description = text.format(place=plan.address)
                plan.acceptor, plan.stop_before, plan.late = acceptor, stop, late
                plan.channel = Channel.ONLINE if acceptor == "public" else Channel.PATROL
                plan.route = "transfer" if unit else "take"
                plan.priority = Priority.NORMAL
                plan.decline = plan.slow_start = plan.extend = plan.supervise = False
                plan.flagged, plan.rework = False, 0
                plan.ratings = [Satisfaction.SATISFIED]
                plan.cancel = not stop
                plan.escalate = stop == "assign"
                plan.brisk = stop != "feedback"
                out.append(plan)
        return out

    def draw_plans(self) -> list[Plan]:
        rng = self.rng
        weights = [4 if i == 0 else 3 if i == 1 else 1 for i in range(len(self.grids))]
        pinned = self.pinned()[: self.count]
        first = timezone.localdate(self.now) - timedelta(days=DAYS)
        plans = []
        for _ in range(self.count - len(pinned)):
            at = self.moment(first + timedelta(days=rng.randrange(DAYS + 1)))
            if at >= self.now:
                at = self.working_hours_before(rng.uniform(0.5, 8))
            plans.append(self.draw_plan(at, rng.choices(self.grids, weights=weights)[0]))
        plans += pinned
        plans.sort(key=lambda p: p.at)
        cutoff = self.now - timedelta(days=self.fast_days)
        for p in plans:
            p.fast = p.at < cutoff and p.fits_fast_path()
        return plans

    # ------------------------------------------------------------------ who acts

    def at_node(self, node: Node, roles, *, besides: int | None = None) -> User | None:
        for user, role in self.staff.get(node.pk, []):
            if role in roles and not user.is_superuser and user.pk != besides:
                return user
        return None

    def holder(self, case: Case, roles=workflow.ALL_STAFF) -> User:
        """Staff at the level holding the case, or the nearest level above with such a role."""
        for node in self.ancestry(self.nodes[case.level_node_id]):
            user = self.at_node(node, roles)
            if user is not None:
                return user
        raise _Stop("nobody to act")

    def caller(self, case: Case) -> User:
        """Who records the call-back (回访): staff at or above the holding level, not the one
        who handled the case (services.separation_refusal)."""
        for node in self.ancestry(self.nodes[case.level_node_id]):
            user = self.at_node(node, workflow.ALL_STAFF, besides=case.handler_user_id)
            if user is not None:
                return user
        raise _Stop("nobody to call back")

    def supervisor(self, case: Case) -> User | None:
        for node in self.ancestry(self.nodes[case.level_node_id])[1:]:
            user = self.at_node(node, workflow.SUPERVISORS)
            if user is not None:
                return user
        return None

    def handler(self, case: Case) -> User:
        if case.handler_user_id:
            return self.users[case.handler_user_id]
        return self.unit_member[case.handler_unit_id]

    def acceptor(self, p: Plan) -> User | None:
        level = ACCEPTOR_LEVEL.get(p.acceptor)
        if level is None:
            return None
        node = next((n for n in self.ancestry(p.grid) if n.level == level), None)
        return self.at_node(node, workflow.ALL_STAFF) if node else None

    # ------------------------------------------------------------------ doing things

    def fresh(self, case: Case) -> Case:
        """What the sweeper may have changed since the story last looked (service path)."""
        if case.pk is None or case.pk not in self.stale:
            return case  # the fast path's object, or one the sweeper has not touched since
        self.stale.discard(case.pk)
        row = Case.objects.filter(pk=case.pk).values_list(*FRESH).get()
        for name, value in zip(FRESH, row, strict=True):
            setattr(case, name, value)
        return case

    def act(self, case: Case, action: str, t: datetime, user: User | None = None, **kw) -> Case:
        case = self.fresh(case)
        if user is None:
            handler = workflow.TRANSITIONS[action].who == workflow.HANDLER
            user = (
                self.handler(case)
                if handler
                else self.holder(case, workflow.TRANSITIONS[action].roles)
            )
        self.actions[action] += 1
        if case.pk is None:
            return self.fast.act(case, action, t, user, **kw)
        self.clock = t
        case = services.case_act(acting_user=user, case=case, action=action, now=t, **kw)
        self.watch(case)
        return case

    def accept(self, p: Plan) -> Case:
        user = self.acceptor(p)
        self.actions["accept"] += 1
        self.paths["fast" if p.fast else "services"] += 1
        if p.fast:
            case = self.case_of[id(p)] = self.fast.accept(p, user, p.at)
            return case
        data = {
            "category": p.category, "title": p.title, "description": p.description,
            "channel": p.channel, "priority": p.priority, "grid": p.grid, "address": p.address,
            "lat": p.lat, "lng": p.lng, "anonymous": p.anonymous, "reporter": p.reporter,
            "reporter_name": p.reporter.name if p.reporter else p.reporter_name,
            "reporter_phone": p.reporter_phone,
        }  # fmt: skip
        self.clock = p.at
        self.flush_counter(timezone.localdate(p.at))
        if user is None:  # a resident, through the app (Open311)
            case = services.case_accept(
                data=data, public=True, source_client=CLIENT_NAME, open311_client=self.client,
                now=p.at,
            )  # fmt: skip
        else:
            case = services.case_accept(acting_user=user, data=data, now=p.at)
        self.counted(case)
        self.watch(case)
        self.case_of[id(p)] = case
        return case

    def assign(self, case: Case, p: Plan, t: datetime, *, avoid: int | None = None) -> Case:
        case = self.fresh(case)
        route = p.route
        if route == "take" and self.nodes[case.level_node_id].level < Level.COMMUNITY:
            route = "dispatch"  # streets and the county send work down, they don't do it
        if route == "transfer":
            unit = self.units.get(p.unit) or self.units["cgzf"]
            if unit.pk == avoid:
                unit = next(u for u in self.units.values() if u.pk != avoid)
            user = self.holder(case, workflow.DISPATCHERS)
            return self.act(case, "transfer", t, user=user, target_unit=unit)
        if route == "dispatch":
            target = self.at_node(p.grid, {Role.GRID_WORKER})
            user = self.holder(case, workflow.DISPATCHERS)
            if target is None or target == user:
                return self.act(case, "take", t, user=user)
            return self.act(case, "dispatch", t, user=user, target_user=target)
        return self.act(case, "take", t)

    def life(self, p: Plan) -> Iterator[datetime]:
        """One case's story: yields the moment of its next step, then takes it.

        Every draw comes from the story's own random generator, so a story is the same
        whichever path replays it and whatever the other stories do. A pinned plan stops
        before its `stop_before` step and stays open.
        """
        rng = random.Random(p.seed)

        def later(t: datetime, low: float, high: float) -> datetime:
            """A moment low–high working hours after t (within half an hour if brisk)."""
            if p.brisk:
                low, high = min(low, 0.1), min(high, 0.5)
            return deadline_after(t, hours=rng.uniform(low, high))

        def part_of_limit(case: Case, t: datetime, low: float, high: float) -> datetime:
            """A moment after t, a fraction low–high of the way to the case's deadline."""
            deadline = self.fresh(case).deadline
            if p.brisk:
                low, high = 0.01, 0.03
            if deadline is None or deadline <= t:
                return later(t, 0.1, 1)
            left = working_hours_between(t, deadline)
            return deadline_after(t, hours=max(0.05, left * rng.uniform(low, high)))

        t = p.at
        yield t
        case = self.accept(p)
        if case.status == Status.ACCEPTED:
            if p.stop_before == "register":
                return
            t = later(t, 5, 12) if p.slow_start else later(t, 0.1, 3)
            yield t
            case = self.act(case, "register", t)
        if p.cancel:
            t = later(t, 0.2, 4)
            yield t
            self.act(case, "cancel", t, note=rng.choice(CANCEL_NOTES))
            return
        if p.escalate:
            t = later(t, 0.5, 6)
            yield t
            case = self.act(case, "escalate", t, note=rng.choice(ESCALATE_NOTES))
            p.route = "transfer" if p.unit else "take"
        for rating in p.ratings:
            if p.stop_before == "assign":
                return
            t = later(t, 9, 16) if p.slow_start else later(t, 0.1, 5)
            yield t
            case = self.assign(case, p, t)
            if p.decline and case.handler_unit_id:
                p.decline = False
                t = later(t, 0.5, 6)
                yield t
                unit = case.handler_unit_id
                case = self.act(case, "decline", t, note=rng.choice(DECLINE_NOTES))
                t = later(t, 0.5, 5)
                yield t
                case = self.assign(case, p, t, avoid=unit)
            if case.status == Status.DISPATCHED:
                if p.stop_before == "start":
                    return
                t = later(t, 0.1, 4)
                yield t
                case = self.act(case, "start", t)
            if p.extend and self.supervisor(self.fresh(case)) is not None:
                p.extend = False
                t = part_of_limit(case, t, 0.3, 0.7)
                yield t
                days = rng.randint(2, 5)
                case = self.act(case, "extend_request", t, note=rng.choice(EXTEND_NOTES),
                                days=days)  # fmt: skip
                t = later(t, 0.5, 6)
                yield t
                boss = self.supervisor(self.fresh(case))
                approve = rng.random() < 0.85
                note = "同意，请抓紧办理。" if approve else "时限内可以办结，不同意延期。"
                # Moved up late by the sweeper meanwhile, the request was closed: no decision.
                if case.extension_pending:
                    case = self.act(case, "extend_decide", t, user=boss, note=note,
                                    approve=approve)  # fmt: skip
            if p.supervise and self.supervisor(self.fresh(case)) is not None:
                p.supervise = False
                t = part_of_limit(case, t, 0.2, 0.6)
                yield t
                boss = self.supervisor(self.fresh(case))
                case = self.act(case, "supervise", t, user=boss,
                                note=rng.choice(SUPERVISE_NOTES))  # fmt: skip
            for k in range(p.rework + 1):
                if p.late and k == 0:
                    t = later(max(t, self.fresh(case).deadline or t), 2, 30)
                else:
                    t = part_of_limit(case, t, 0.15, 0.9)
                if p.stop_before == "feedback":
                    return
                yield t
                case = self.act(case, "feedback", t, note=p.result)
                if p.stop_before == "verify":
                    return
                t = later(t, 0.2, 6)
                yield t
                if k < p.rework:
                    case = self.act(case, "rework", t, note=rng.choice(REWORK_NOTES))
                else:
                    case = self.act(case, "verify", t)
            p.rework, p.late = 0, False
            if p.stop_before == "rate":
                return
            t = later(t, 2, 40)
            yield t
            note = rng.choice(RATING_NOTES[Satisfaction(rating)])
            case = self.act(case, "rate", t, user=self.caller(self.fresh(case)),
                            satisfaction=rating, note=note)  # fmt: skip
            if case.status != Status.REGISTERED:
                return  # rated; 不满意 the first time reopens it: another round

    # ------------------------------------------------------------------ the sweeper

    def watch(self, case: Case) -> None:
        """Keep track of when the sweeper has something to do for a service-path case."""
        if case.status in OPEN_STATUSES and case.next_check_at is not None:
            self.due[case.pk] = case.next_check_at
        else:
            self.due.pop(case.pk, None)

    def make_ticks(self) -> list[datetime]:
        """When the scheduled sweeper runs: every two hours in the day, daily on days off."""
        day = timezone.localdate(self.now) - timedelta(days=DAYS + 1)
        ticks = []
        while day <= timezone.localdate(self.now):
            marks = (9, 11, 13, 15, 17.55) if is_working_day(day) else (12,)
            ticks += [_local(day) + timedelta(hours=h) for h in marks]
            day += timedelta(days=1)
        return [t for t in ticks if t < self.now] + [self.now]

    def sweep(self, t: datetime, *, always: bool = False) -> None:
        """Run the real sweeper at t, when it has something to do (an idle run changes nothing)."""
        due = [pk for pk, at in self.due.items() if at <= t]
        if not due and not always:
            return
        self.clock = t
        counts = services.sweep_deadlines(now=t)
        self.stale.update(due)
        self.sweeps.update({k: v for k, v in counts.items() if k != "checked" and v})
        for pk, status, next_check in Case.objects.filter(pk__in=due).values_list(
            "pk", "status", "next_check_at"
        ):
            self.watch(Case(pk=pk, status=status, next_check_at=next_check))

    # ------------------------------------------------------------------ the year

    def setup(self) -> None:
        self.load_tree()
        self.ensure_staff()
        self.ensure_units()
        self.ensure_client()
        self.ensure_zoning()
        geo.clear_cache()
        self.people: dict[int, list[Person]] = {}
        self.categories = {c.code: c for c in Category.objects.filter(code__in=TOPICS)}
        self.sensitive = {
            code for code, c in self.categories.items() if services._zoning_sensitive(c)
        }

    def replaying(self) -> "_replay_clock":
        """Wrap setup and run (and the transaction around them) in this."""
        return _replay_clock(self)

    def run(self, plans: list[Plan] | None = None) -> None:
        """Replay the plans (drawn here unless given) in time order, sweeps in between."""
        self.due: dict[int, datetime] = {}
        self.case_of: dict[int, Case] = {}  # id(plan) → its case
        self.stale: set[int] = set()
        self.fast = FastPath(self)
        self.ticks = self.make_ticks()
        queue = [(p.at, i, self.life(p)) for i, p in enumerate(plans or self.draw_plans())]
        heapq.heapify(queue)
        ticks = iter(self.ticks)
        tick = next(ticks)
        while queue:
            t, i, story = heapq.heappop(queue)
            while tick is not None and tick <= t:
                self.sweep(tick)
                tick = next(ticks, None)
            try:
                t_next = next(story)
            except StopIteration:
                continue
            except _Stop as e:
                self.problems[str(e)] += 1
                continue
            except (ValidationError, services.CaseConflict, PermissionDenied) as e:
                self.problems[f"{type(e).__name__}: {e}"[:120]] += 1
                continue
            if t_next <= self.now:
                heapq.heappush(queue, (t_next, i, story))
        while tick is not None:
            self.sweep(tick, always=tick == self.now)
            tick = next(ticks, None)
        # A fast story always ends well before now; one that did not would miss the sweeps.
        self.problems["fast path: still open"] += sum(
            c.status in OPEN_STATUSES for c in self.fast.cases
        )
        self.problems += Counter()  # drop zero counts
        self.flush_counter()
        self.fast.save()
        # Old news has been read; the last few days' notifications wait unread.
        Notification.objects.filter(
            case__grid__in=list(self.nodes), created_at__lt=self.now - timedelta(days=3)
        ).update(read_at=F("created_at") + timedelta(hours=2))


def _local(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.get_current_timezone())


class _replay_clock:
    """While replaying: no text messages (history is not news), and the rows whose time the
    services take from the clock (notifications, extension requests) get the replayed time."""

    FIELDS = [(Notification, "created_at"), (ExtensionRequest, "requested_at")]

    def __init__(self, replay: Replay):
        self.replay = replay

    def __enter__(self):
        self.saved_sms = services.send_sms
        services.send_sms = lambda mobile, text: None
        for model, name in self.FIELDS:
            f = model._meta.get_field(name)
            f.__dict__["_get_default"] = lambda: self.replay.clock
        return self

    def __exit__(self, *exc):
        services.send_sms = self.saved_sms
        for model, name in self.FIELDS:
            model._meta.get_field(name).__dict__.pop("_get_default", None)


def seed_cases(
    *,
    count: int = DEFAULT_COUNT,
    now: datetime | None = None,
    rng: random.Random,
    county: Node | None = None,
) -> dict:
    """Seed departments, the Open311 client, zoning and a year of cases (once).

    Returns a summary: skipped (cases were there already), cases, by_status, open,
    open311_key (only when the client was created now: it is shown this once), seconds,
    actions, sweeps, paths (how many cases each path replayed), problems (should be empty),
    staff_created.
    """
    started = time.monotonic()
    county = county or Node.objects.filter(parent__isnull=True).order_by("pk").first()
    if county is None or not Node.objects.filter(subtree_q(county.path), level=Level.GRID).exists():
        return {"skipped": True, "reason": "没有网格", "cases": 0, "open311_key": ""}
    in_county = Case.objects.filter(grid__in=Node.objects.filter(subtree_q(county.path)))
    if in_county.exists():
        return {
            "skipped": True,
            "reason": "已有案件",
            "cases": in_county.count(),
            "open311_key": "",
        }
    replay = Replay(county=county, count=count, now=now or timezone.now(), rng=rng)
    with replay.replaying(), transaction.atomic():
        replay.setup()
        replay.run()
    by_status = Counter(in_county.values_list("status", flat=True))
    return {
        "skipped": False,
        "cases": sum(by_status.values()),
        "by_status": dict(by_status),
        "open": sum(by_status.get(s, 0) for s in OPEN_STATUSES),
        "open311_key": replay.key,
        "seconds": round(time.monotonic() - started, 1),
        "actions": dict(replay.actions),
        "sweeps": dict(replay.sweeps),
        "paths": dict(replay.paths),
        "problems": dict(replay.problems),
        "staff_created": replay.created_staff,
    }
