"""The case loop (件件有着落，事事有回音): cases, their events, time limits and who acts.

Models hold data and invariants. Every state change goes through `cases.services`, which checks
the transition table in `cases.workflow`, locks the row, writes a `CaseEvent` and the
notifications in the same transaction. Deadlines, inboxes, indicators and the public progress
page are all read from these rows.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from minqing.core.fields import EncryptedTextField
from minqing.core.masking import mask_phone


class Channel(models.TextChoices):
    VISIT = "visit", _("走访发现")
    PATROL = "patrol", _("网格巡查")
    PHONE = "phone", _("来电")
    WALK_IN = "walk_in", _("来访")
    RECEPTION = "reception", pgettext_lazy("channel", "接待日")
    ONLINE = "online", _("网上")
    HOTLINE = "hotline", _("12345")
    PETITION = "petition", _("信访")


class CaseType(models.TextChoices):
    CONSULT = "consult", _("咨询")
    HELP = "help", _("求助")
    COMPLAINT = "complaint", _("投诉")
    REPORT = "report", _("举报")
    SUGGESTION = "suggestion", _("建议")


class Priority(models.TextChoices):
    URGENT = "urgent", _("紧急")
    NORMAL = "normal", _("一般")


class Status(models.TextChoices):
    ACCEPTED = "accepted", _("已受理")  # recorded; the acceptor owns it (首问负责)
    REGISTERED = "registered", _("已立案")  # confirmed as a case; waits to be handled or dispatched
    DISPATCHED = "dispatched", _("已派遣")  # sent to a handler or a department; the clock runs
    HANDLING = "handling", _("处置中")  # the handler is working on it
    FED_BACK = "fed_back", _("已反馈")  # the handler reports it done; waits for 核查
    CLOSED = "closed", _("已结案")  # verified; waits for the call-back (回访) and rating
    RATED = "rated", _("已回访")  # call-back done, rating recorded: the loop is closed
    CANCELLED = "cancelled", _("已注销")  # not a case (duplicate, not our matter …), with a reason


OPEN_STATUSES = (
    Status.ACCEPTED,
    Status.REGISTERED,
    Status.DISPATCHED,
    Status.HANDLING,
    Status.FED_BACK,
)
DONE_STATUSES = (Status.CLOSED, Status.RATED)


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    FAIRLY = "fairly", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class Stage(models.TextChoices):
    """The stages a time limit can be set for."""

    REGISTER = "register", pgettext_lazy("stage", "立案")
    DISPATCH = "dispatch", pgettext_lazy("stage", "派遣")
    HANDLE = "handle", pgettext_lazy("stage", "处置")
    VERIFY = "verify", pgettext_lazy("stage", "核查")


class Category(models.Model):
    """A configurable tree of case categories (数字城管 event classes + community matters)."""

    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    description = models.CharField(_("说明"), max_length=200, blank=True)
    zoning_sensitive = models.BooleanField(
        _("违法建设类"),
        default=False,
        help_text=_("位于禁建区的此类案件会被标记并提升为紧急。"),
    )
    default_type = models.CharField(
        _("默认诉求类型"), max_length=12, choices=CaseType.choices, default=CaseType.HELP
    )
    published = models.BooleanField(
        _("公开"),
        default=False,
        help_text=_(
            "网上报告和网格巡查的此类案件在 Open311 公开接口中列出（不含反映人和处置人）。"
            "矛盾纠纷、求助、信访等涉及个人和家庭的类别不要公开。"
        ),
    )
    active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("案件类别")
        verbose_name_plural = pgettext_lazy("plural", "案件类别")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name

    def lineage_ids(self) -> list[int]:
        """This category and its ancestors, nearest first."""
        ids, node = [], self
        while node is not None and len(ids) < 10:
            ids.append(node.pk)
            node = node.parent
        return ids


class TimeLimit(models.Model):
    """A configurable time limit for one stage; the most specific matching row applies.

    Blank category / type / priority / channel match every case; a category row applies to its
    sub-categories too. Limits are in working days (ending at the close of the working day) or
    in working hours; both zero means "the same working day".
    """

    stage = models.CharField(_("环节"), max_length=10, choices=Stage.choices)
    category = models.ForeignKey(
        Category, verbose_name=_("类别"), null=True, blank=True, on_delete=models.CASCADE
    )
    case_type = models.CharField(_("诉求类型"), max_length=12, choices=CaseType.choices, blank=True)
    priority = models.CharField(_("紧急程度"), max_length=10, choices=Priority.choices, blank=True)
    channel = models.CharField(_("来源渠道"), max_length=12, choices=Channel.choices, blank=True)
    working_days = models.PositiveSmallIntegerField(_("工作日"), default=0)
    working_hours = models.PositiveSmallIntegerField(_("工作小时"), default=0)

    class Meta:
        verbose_name = _("办理时限")
        verbose_name_plural = pgettext_lazy("plural", "办理时限")
        ordering = ["stage", "category_id", "case_type", "priority", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "category", "case_type", "priority", "channel"],
                name="time_limit_unique",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        days, hours = self.working_days, self.working_hours
        if days and hours:
            limit = gettext("%(days)d个工作日%(hours)d个工作小时") % {"days": days, "hours": hours}
        elif days or hours:
            limit = (gettext("%(n)d个工作日") if days else gettext("%(n)d个工作小时")) % {
                "n": days or hours
            }
        else:
            limit = gettext("当日")
        return gettext("%(stage)s：%(limit)s") % {"stage": self.get_stage_display(), "limit": limit}


class EscalationRule(models.Model):
    """How long a late case may stay at a level before it goes up one more level."""

    level = models.PositiveSmallIntegerField(_("所在层级"), unique=True)
    grace_working_days = models.PositiveSmallIntegerField(
        _("超期后再上报（工作日）"),
        default=0,
        help_text=_("0 表示一超期就上报上一级。"),
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("超期上报规则")
        verbose_name_plural = pgettext_lazy("plural", "超期上报规则")
        ordering = ["-level"]

    def __str__(self) -> str:
        from minqing.grids.models import Level

        return gettext("%(level)s：超期 %(n)d 个工作日后上报") % {
            "level": Level(self.level).label,
            "n": self.grace_working_days,
        }


class Unit(models.Model):
    """A department cases are transferred to (转办): 城管, 环卫, 派出所, 供水 …"""

    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    node = models.ForeignKey(
        "grids.Node",
        verbose_name=_("所属区划"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("部门服务的区域（通常是县或街道）。"),
    )
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("成员"), blank=True, related_name="case_units"
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("职能部门")
        verbose_name_plural = pgettext_lazy("plural", "职能部门")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


def _new_token() -> str:
    return secrets.token_hex(12)


# Channels whose cases the public Open311 API may list (cases.open311), when their category
# is public too: a resident's report from an app or the web, and a grid worker's patrol.
PUBLISHED_CHANNELS = (Channel.ONLINE, Channel.PATROL)


class Case(models.Model):
    number = models.CharField(_("案件编号"), max_length=20, unique=True)
    # Open311 clients that cannot wait for the number get this token back.
    token = models.CharField(max_length=32, unique=True, default=_new_token, editable=False)
    channel = models.CharField(_("来源渠道"), max_length=12, choices=Channel.choices)
    case_type = models.CharField(_("诉求类型"), max_length=12, choices=CaseType.choices)
    category = models.ForeignKey(
        Category, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="cases"
    )
    priority = models.CharField(
        _("紧急程度"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    title = models.CharField(_("事项"), max_length=100)
    description = models.TextField(_("情况描述"), max_length=4000)
    # Reporter: a person on file, or a name and phone, or nobody (anonymous).
    reporter = models.ForeignKey(
        "registry.Person",
        verbose_name=_("反映人（档案）"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
    )
    reporter_name = models.CharField(_("反映人"), max_length=50, blank=True)
    reporter_phone = EncryptedTextField(_("联系电话"), blank=True, default="", plain_max_length=20)
    reporter_phone_last4 = models.CharField(max_length=4, blank=True, editable=False)
    anonymous = models.BooleanField(_("匿名"), default=False)
    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("相关家庭"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
    )
    # Where it happened: its grid when known (placed by point-in-polygon), else a higher node.
    # This is what scoping uses: the grid worker of that grid always sees the case.
    # The four keys below are indexed by Meta.indexes' (key, status) pairs, which serve every
    # lookup by the key alone too: no index of their own to update on each insert.
    grid = models.ForeignKey(
        "grids.Node",
        verbose_name=_("所属网格"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    address = models.CharField(_("地点"), max_length=200, blank=True)
    lat = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    zoning = models.CharField(_("所在规划分区"), max_length=10, blank=True)

    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.ACCEPTED
    )
    # The level that holds the case now (grid, community, street, county): its staff act on it.
    level_node = models.ForeignKey(
        "grids.Node",
        verbose_name=_("当前责任层级"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    handler_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处置人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="handled_cases",
        db_index=False,
    )
    handler_unit = models.ForeignKey(
        Unit,
        verbose_name=_("处置部门"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("受理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accepted_cases",
    )
    source_client = models.CharField(_("来源系统"), max_length=50, blank=True)
    # The Open311 client that sent the report: it may read the case with its key, published or
    # not (a 12345 platform's own reports).
    open311_client = models.ForeignKey(
        "Open311Client",
        verbose_name=_("Open311 客户端"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    accepted_at = models.DateTimeField(_("受理时间"), default=timezone.now)
    registered_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    fed_back_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    # The clock of the current stage.
    stage = models.CharField(_("计时环节"), max_length=10, choices=Stage.choices, blank=True)
    stage_started_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(_("本环节时限"), null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded = models.BooleanField(default=False)
    overdue_notified = models.BooleanField(default=False)
    auto_escalated_at = models.DateTimeField(null=True, blank=True)
    # When the sweeper must look at this case next (reminder, lateness, escalation); null when
    # there is nothing to watch. The sweeper only reads rows with next_check_at <= now.
    next_check_at = models.DateTimeField(null=True, blank=True)
    handle_deadline = models.DateTimeField(_("处置时限"), null=True, blank=True)
    late = models.BooleanField(_("曾超期"), default=False)
    # Its handler asked for more time and nobody has decided yet (an ExtensionRequest PENDING):
    # what the deciding supervisors' inbox looks for, through a small partial index.
    extension_pending = models.BooleanField(_("延期待审批"), default=False, db_default=False)
    closed_on_time = models.BooleanField(_("按期结案"), null=True, blank=True)
    # The steps' own timeliness (数字城管: 按时立案率, 按期处置率): decided when the step is
    # taken, against the limit running then; null until it is (or for rows from before 0015).
    registered_on_time = models.BooleanField(_("按时立案"), null=True, blank=True)
    handled_on_time = models.BooleanField(_("按期处置"), null=True, blank=True)
    handling_hours = models.FloatField(_("处置用时（工作小时）"), null=True, blank=True)

    rework_count = models.PositiveSmallIntegerField(_("返工次数"), default=0)
    # 派遣数 and 准确派遣率: how often a handler was given the case (派遣, 转办, 自行处置) and how
    # often a handler sent it back as not theirs (退单).
    dispatch_count = models.PositiveSmallIntegerField(_("派遣次数"), default=0, db_default=0)
    decline_count = models.PositiveSmallIntegerField(_("退单次数"), default=0, db_default=0)
    escalation_count = models.PositiveSmallIntegerField(_("上报次数"), default=0)
    supervise_count = models.PositiveSmallIntegerField(_("督办次数"), default=0)
    reopened = models.BooleanField(_("曾重办"), default=False)
    result = models.TextField(_("处置结果"), blank=True)
    answer = models.TextField(_("答复反映人"), blank=True)
    cancel_reason = models.CharField(_("注销原因"), max_length=200, blank=True)
    satisfaction = models.CharField(
        _("满意度"), max_length=12, choices=Satisfaction.choices, blank=True
    )
    rating_note = models.CharField(_("评价意见"), max_length=500, blank=True)
    # Bumped on every change: a form posts the version it saw, so a stale action is refused.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = pgettext_lazy("singular", "案件")
        verbose_name_plural = pgettext_lazy("plural", "案件")
        ordering = ["-accepted_at", "-id"]
        indexes = [
            models.Index(fields=["grid", "status"], name="case_grid_status"),
            models.Index(fields=["level_node", "status"], name="case_level_status"),
            models.Index(fields=["handler_user", "status"], name="case_handler_status"),
            models.Index(fields=["handler_unit", "status"], name="case_unit_status"),
            models.Index(
                fields=["next_check_at"],
                name="case_next_check",
                condition=models.Q(next_check_at__isnull=False),
            ),
            models.Index(fields=["status", "deadline"], name="case_status_deadline"),
            # The overdue list: one grid's (one handler's) open cases by deadline, without
            # reading the county's late cases and testing each one's grid.
            models.Index(
                fields=["grid", "deadline"],
                name="case_open_grid_deadline",
                condition=models.Q(status__in=OPEN_STATUSES),
            ),
            models.Index(
                fields=["handler_user", "deadline"],
                name="case_open_handler_deadline",
                condition=models.Q(status__in=OPEN_STATUSES),
            ),
            models.Index(
                fields=["level_node", "deadline"],
                name="case_extension_pending",
                condition=models.Q(extension_pending=True),
            ),
            # A community's 待回访 of what its grids solved lately (cases.selectors): the
            # closed cases of a few grids since a date, not every case closed that week.
            models.Index(
                fields=["level_node", "closed_at"],
                name="case_closed_level",
                condition=models.Q(status="closed"),
            ),
            models.Index(fields=["accepted_at"], name="case_accepted_at"),
            models.Index(fields=["closed_at"], name="case_closed_at"),
            # The indicators read only the cases registered (or accepted) in their period.
            models.Index(fields=["registered_at"], name="case_registered_at"),
            # The search for four digits also finds the reporters whose phone ends in them;
            # ORed with the text, that side needs its own index (a county: 0.7 s without).
            models.Index(fields=["reporter_phone_last4"], name="case_phone_last4"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_published(self) -> bool:
        """Listed by the public Open311 API (without its reporter or handlers)."""
        return self.channel in PUBLISHED_CHANNELS and self.category.published

    def is_late(self, now=None) -> bool:
        now = now or timezone.now()
        return self.is_open and self.deadline is not None and self.deadline < now

    @property
    def reporter_phone_masked(self) -> str:
        """The phone to reach the reporter by, masked: the one given with the case, else the
        filed reporter's own (a member chosen from the household); none when anonymous. The
        case page, the ledger and the API all show this one."""
        filed = self.reporter.phone if self.reporter_id and not self.reporter_phone else ""
        return reporter_phone_shown(self.anonymous, self.reporter_phone, filed)

    @property
    def reporter_display(self) -> str:
        if self.anonymous:
            return gettext("匿名")
        if self.reporter_id:
            return self.reporter.name
        return self.reporter_name


def reporter_phone_shown(anonymous: bool, given: str, filed: str) -> str:
    """The rule of Case.reporter_phone_masked on plain values: the ledger's export reads rows,
    not cases. `given`: the phone given with the case; `filed`: the filed reporter's own."""
    return "" if anonymous else mask_phone(given or filed)


class CaseEvent(models.Model):
    """One row per action on a case: the case's history, its clock and its statistics."""

    # Indexed by (case, at) in Meta.indexes, which serves lookups by the case alone.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("操作方"), max_length=50, blank=True)  # 系统, 群众, Open311 …
    action = models.CharField(_("动作"), max_length=20)
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    from_node = models.ForeignKey(
        "grids.Node", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_node = models.ForeignKey(
        "grids.Node", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    target_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(_("说明"), blank=True)
    # What minqing wrote itself (a reminder, an escalation): its text's key and arguments, so
    # pages show it in the reader's language (cases.texts). Empty for what a person wrote.
    note_key = models.CharField(max_length=32, blank=True, default="", db_default="")
    note_args = models.JSONField(null=True, blank=True)
    # Shown on the resident's public page (no names, no internal notes).
    public = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("案件流转记录")
        verbose_name_plural = pgettext_lazy("plural", "案件流转记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_case_at")]

    def __str__(self) -> str:
        return f"{self.case.number} {self.action}"

    @property
    def note_shown(self) -> str:
        from .texts import shown

        return shown(self.note, self.note_key, self.note_args)


def photo_path(instance, filename: str) -> str:
    now = timezone.now()
    return f"cases/{now:%Y/%m}/{secrets.token_hex(8)}{instance.extension}"


class CasePhoto(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(pgettext_lazy("singular", "照片"), upload_to=photo_path)
    content_type = models.CharField(max_length=30)
    size = models.PositiveIntegerField(default=0)
    stage = models.CharField(_("环节"), max_length=20, blank=True)  # 受理 / 处置反馈 …
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("案件照片")
        verbose_name_plural = pgettext_lazy("plural", "案件照片")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return gettext("%(number)s 照片 %(id)s") % {"number": self.case.number, "id": self.pk}

    @property
    def extension(self) -> str:
        return {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}.get(
            self.content_type, ".bin"
        )


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")


class ExtensionRequest(models.Model):
    """延期: the handler asks, someone one level up decides."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    working_days = models.PositiveSmallIntegerField(_("延长工作日"))
    reason = models.CharField(_("理由"), max_length=500)
    status = models.CharField(
        max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "延期申请")
        verbose_name_plural = pgettext_lazy("plural", "延期申请")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(status="pending"),
                name="one_pending_extension_per_case",
            ),
        ]

    @property
    def decision_shown(self) -> str:
        from .texts import extension_decision

        return extension_decision(self.decision_note)

    def __str__(self) -> str:
        return gettext("%(number)s 延期 %(n)d 个工作日（%(status)s）") % {
            "number": self.case.number,
            "n": self.working_days,
            "status": self.get_status_display(),
        }


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", _("新任务")
    REMINDER = "reminder", _("催办")
    OVERDUE = "overdue", _("超期")
    ESCALATED = "escalated", pgettext_lazy("notification", "上报")
    SUPERVISED = "supervised", pgettext_lazy("notification", "督办")
    EXTENSION = "extension", _("延期")
    FEEDBACK = "feedback", _("已反馈")
    REOPENED = "reopened", _("重办")


class Notification(models.Model):
    """An in-app message to one user; an SMS is sent after commit when the user has a mobile."""

    # Indexed by (user, read_at) in Meta.indexes, which serves lookups by the user alone.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("类型"), max_length=12, choices=NotificationKind.choices)
    message = models.CharField(_("内容"), max_length=300)
    # The message's key and arguments (cases.texts), to show it in the reader's language.
    message_key = models.CharField(max_length=32, blank=True, default="", db_default="")
    message_args = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "通知")
        verbose_name_plural = pgettext_lazy("plural", "通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return self.message

    @property
    def message_shown(self) -> str:
        from .texts import shown

        return shown(self.message, self.message_key, self.message_args)


class CaseCounter(models.Model):
    """The last case number handed out per day (row-locked while a case is numbered)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day:%Y%m%d}: {self.last}"


class ZoneKind(models.TextChoices):
    NO_BUILD = "no_build", _("禁建区")
    RESTRICTED = "restricted", _("限建区")
    BUILDABLE = "buildable", _("适建区")
    BUILT = "built", _("已建区")


class ZoningLayer(models.Model):
    """An uploaded planning zone (GeoJSON polygon) drawn on the maps."""

    kind = models.CharField(_("分区"), max_length=12, choices=ZoneKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    geometry = models.JSONField(_("范围 (GeoJSON)"))
    active = models.BooleanField(_("启用"), default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("规划分区")
        verbose_name_plural = pgettext_lazy("plural", "规划分区")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.name}"


class Open311Client(models.Model):
    """An app allowed to POST requests through Open311; only the key's SHA-256 is stored."""

    name = models.CharField(_("名称"), max_length=100)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(max_length=8, editable=False)
    active = models.BooleanField(_("启用"), default=True)
    # A platform that pushes reports in bulk (a 12345 hotline, a city app) gets a token at
    # once and the case number a moment later (cases.intake); a resident's app gets the number.
    # A 12345 hotline platform's reports are 12345 cases (counted and timed as such), and not
    # published by GET: the platform reads its own with its key (cases.open311).
    channel = models.CharField(
        _("渠道"),
        max_length=12,
        choices=[("online", _("网上")), ("hotline", _("12345"))],
        default="online",
        help_text=_(
            "12345 热线平台选“12345”：其报告按 12345 渠道统计和计时，不公开发布，平台凭 API 密钥查询自己报告的办理情况。"
        ),
    )
    deferred = models.BooleanField(
        _("先回凭据，后台立案"),
        default=False,
        help_text=_(
            "大批量推送的平台适用：收到报告即回凭据（token），案件由后台任务随后受理（通常在一分钟内），"
            "对方凭 token 查询案件编号。"
        ),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Open311 客户端")
        verbose_name_plural = pgettext_lazy("plural", "Open311 客户端")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class IntakeState(models.TextChoices):
    WAITING = "waiting", _("待受理")
    FILING = "filing", _("受理中")
    FILED = "filed", _("已受理")
    FAILED = "failed", _("未能受理")


class Open311Intake(models.Model):
    """A report a deferred Open311 client sent, checked and kept until it is filed as a case.

    The checks a report must pass are made when it arrives (the client hears of a bad report
    at once); filing (`cases.intake.file_waiting`) gives the case this row's token and its
    arrival time, so the time limits count from when the resident reported. Once filed, the
    row keeps only the token and the case: the report's text lives in the case.
    """

    token = models.CharField(max_length=32, unique=True, default=_new_token, editable=False)
    client = models.ForeignKey(Open311Client, verbose_name=_("客户端"), on_delete=models.PROTECT)
    received_at = models.DateTimeField(_("收到时间"), default=timezone.now)
    state = models.CharField(
        _("状态"), max_length=10, choices=IntakeState.choices, default=IntakeState.WAITING
    )
    # The checked fields for case_accept (category by id); the phone apart, encrypted.
    data = models.JSONField(_("报告内容"), default=dict, blank=True)
    reporter_phone = EncryptedTextField(_("联系电话"), blank=True, default="", plain_max_length=40)
    case = models.OneToOneField(
        Case,
        verbose_name=pgettext_lazy("singular", "案件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    error = models.CharField(_("未能受理的原因"), max_length=500, blank=True)
    # When a filer took it (state FILING); a filer that died leaves it to be taken again.
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    filed_at = models.DateTimeField(_("受理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 待受理报告")
        verbose_name_plural = pgettext_lazy("plural", "Open311 待受理报告")
        indexes = [
            # The reports not filed (yet): what the filers take, and what the county's home
            # page counts; filed reports, the great majority, stay out of it.
            models.Index(
                fields=["state", "id"],
                condition=models.Q(state__in=["waiting", "filing", "failed"]),
                name="cases_intake_unfiled",
            )
        ]

    def __str__(self) -> str:
        return f"{self.token[:8]}… ({self.get_state_display()})"


class OpinionKind(models.TextChoices):
    SOLVED = "solved", _("当场解决")
    DEADLINE = "deadline", _("限期办理")
    TRANSFERRED = "transferred", _("转办")
    MEETING = "meeting", _("提交班子会议")


class ReceptionDay(models.Model):
    """接待日: a day a community (or a leader) receives residents, with its register."""

    node = models.ForeignKey("grids.Node", verbose_name=_("接待单位"), on_delete=models.PROTECT)
    date = models.DateField(_("接待日期"))
    receivers = models.CharField(_("接待人"), max_length=200)
    place = models.CharField(_("地点"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = pgettext_lazy("singular", "接待日")
        verbose_name_plural = pgettext_lazy("plural", "接待日")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.node} {self.date:%Y-%m-%d}"


class ReceptionMatter(models.Model):
    day = models.ForeignKey(ReceptionDay, on_delete=models.CASCADE, related_name="matters")
    visitor_name = models.CharField(_("来访人"), max_length=50)
    visitor_phone = EncryptedTextField(_("联系电话"), blank=True, default="", plain_max_length=20)
    visitor_phone_last4 = models.CharField(max_length=4, blank=True, editable=False)
    matter = models.TextField(_("反映事项"), max_length=4000)
    opinion = models.CharField(_("处理意见"), max_length=12, choices=OpinionKind.choices)
    opinion_note = models.CharField(_("处理说明"), max_length=500, blank=True)
    case = models.OneToOneField(
        Case,
        verbose_name=_("转为案件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reception_matter",
    )

    class Meta:
        verbose_name = _("接待事项")
        verbose_name_plural = pgettext_lazy("plural", "接待事项")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.visitor_name}：{self.matter[:30]}"
