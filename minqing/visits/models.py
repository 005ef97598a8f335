"""走访: visit classes and schedules, visit records (走访记录表), the worker's diary (民情日记).

Models hold data and invariants only. Writes go through `visits.services`; reads through
`visits.selectors`, which scope every query by the asking user (accounts.access).

The schedule of a household (which class applies, when it was last visited, when it is next
due) is kept denormalised in HouseholdVisitState, one row per household, so "who is due or
overdue in my grid / my street" is a single indexed range query on (grid, next_due). The services
keep the row current when a visit is recorded or a plan changes; the management command
`refresh_visit_due` recomputes every row in batches (nightly: tags edited in the registry,
households moved between grids, plans that expired).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class FrequencyUnit(models.TextChoices):
    DAY = "day", _("天")
    MONTH = "month", _("月")


# Average length of a month, only to compare a "monthly" class with a "every 30 days" one.
DAYS_PER_MONTH = 30.44


class VisitClass(models.Model):
    """普遍走访 / 重点必访 / 跟踪重访 …: how often a household of this class must be visited.

    A household gets a class when the class covers everyone (普遍走访), when the household or
    one of its members carries one of the class's tags, or when somebody planned it by hand
    (HouseholdVisitPlan). Of all the classes that apply, the most frequent one wins.
    """

    code = models.SlugField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=30)
    every = models.PositiveSmallIntegerField(_("频次间隔"), default=1)
    unit = models.CharField(
        _("间隔单位"), max_length=5, choices=FrequencyUnit.choices, default=FrequencyUnit.MONTH
    )
    applies_to_all = models.BooleanField(
        _("适用于全部家庭"), default=False, help_text=_("如普遍走访：每户都至少按此频次走访。")
    )
    tags = models.ManyToManyField(
        "registry.Tag",
        verbose_name=_("按类别自动适用"),
        blank=True,
        related_name="visit_classes",
        help_text=_("家庭或任一成员带有其中任一类别时适用。"),
    )
    description = models.CharField(_("说明"), max_length=200, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("走访类别")
        verbose_name_plural = pgettext_lazy("plural", "走访类别")
        ordering = ["sort", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(every__gte=1), name="visit_class_every_pos"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def frequency_label(self) -> str:
        """In the request's language (pages and the API show it; nothing stores it)."""
        if self.unit == FrequencyUnit.DAY:
            return gettext("每周") if self.every == 7 else gettext("每%(n)s天") % {"n": self.every}
        if self.every == 1:
            return gettext("每月")
        if self.every == 3:
            return gettext("每季度")
        return gettext("每%(n)s个月") % {"n": self.every}

    @property
    def approx_days(self) -> float:
        """The interval in days, for deciding which of several classes is the most frequent."""
        return self.every * (DAYS_PER_MONTH if self.unit == FrequencyUnit.MONTH else 1)


class HouseholdVisitPlan(models.Model):
    """A class given to a household by hand (e.g. 跟踪重访 after a sudden event), optionally until a date."""

    household = models.ForeignKey(
        "registry.Household", on_delete=models.CASCADE, related_name="visit_plans"
    )
    visit_class = models.ForeignKey(
        VisitClass, verbose_name=_("走访类别"), on_delete=models.CASCADE, related_name="plans"
    )
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    until = models.DateField(_("截止日期"), null=True, blank=True, help_text=_("留空为长期。"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("走访安排")
        verbose_name_plural = pgettext_lazy("plural", "走访安排")
        ordering = ["household_id", "visit_class__sort"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "visit_class"], name="visit_plan_one_per_class"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.visit_class}"


class HouseholdVisitState(models.Model):
    """The schedule of one household, kept by the services and by `refresh_visit_due`.

    next_due is already moved to a working day; a household is overdue when next_due < today.
    grid is the household's grid, copied here so the due list is one range scan of the
    (grid, next_due) index for any scope.
    """

    household = models.OneToOneField(
        "registry.Household",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="visit_state",
    )
    grid = models.ForeignKey("grids.Node", on_delete=models.CASCADE, related_name="+")
    visit_class = models.ForeignKey(
        VisitClass, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_visit_at = models.DateTimeField(_("最近走访"), null=True, blank=True)
    next_due = models.DateField(_("下次应访"), null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("走访进度")
        verbose_name_plural = pgettext_lazy("plural", "走访进度")
        indexes = [models.Index(fields=["grid", "next_due"], name="visit_state_grid_due")]

    def __str__(self) -> str:
        return f"{self.household_id} → {self.next_due}"


class VisitMode(models.TextChoices):
    HOME = "home", _("入户")
    PHONE = "phone", _("电话")
    RECEPTION = "reception", _("接访")
    MEETING = "meeting", _("座谈会")


class Visit(models.Model):
    """走访记录表: who went, whom they met, when, how, what they saw and heard."""

    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("走访家庭"),
        on_delete=models.CASCADE,
        related_name="visits",
    )
    # The household's grid, which moves with it (registry.moves): scoping, and lists by grid.
    grid = models.ForeignKey("grids.Node", on_delete=models.PROTECT, related_name="+")
    visited_at = models.DateTimeField(_("走访时间"), default=timezone.now)
    mode = models.CharField(
        _("方式"), max_length=10, choices=VisitMode.choices, default=VisitMode.HOME
    )
    visitors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("走访人"), related_name="visits_made"
    )
    other_visitors = models.CharField(
        _("其他走访人员"),
        max_length=200,
        blank=True,
        help_text=_("没有系统账号的组团成员，如楼组长、志愿者。"),
    )
    members_met = models.ManyToManyField(
        "registry.Person", verbose_name=_("见到的家庭成员"), blank=True, related_name="visits_met"
    )
    seen = models.TextField(_("走访情况"), max_length=2000, blank=True)
    opinions = models.TextField(_("意见建议与诉求"), max_length=2000, blank=True)
    needs = models.ManyToManyField(
        "registry.HouseholdNeed", verbose_name=_("更新的需求"), blank=True, related_name="visits"
    )
    cases = models.ManyToManyField(
        "cases.Case", verbose_name=_("转办案件"), blank=True, related_name="visits"
    )
    # A visit made for a campaign (走访活动), and what was given on it (慰问品/慰问金). A visit
    # within a campaign's window closes the household's target whether or not it names it.
    campaign = models.ForeignKey(
        "Campaign",
        verbose_name=_("走访活动"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    gift_goods = models.CharField(_("慰问品"), max_length=100, blank=True)
    gift_amount = models.DecimalField(
        _("慰问金(元)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = pgettext_lazy("plural", "走访记录")
        ordering = ["-visited_at", "-id"]
        indexes = [
            models.Index(fields=["household", "-visited_at"], name="visit_household_at"),
            models.Index(fields=["grid", "-visited_at"], name="visit_grid_at"),
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.visited_at)
        return f"走访 {local:%Y-%m-%d} · {self.get_mode_display()}"


class DiaryEntry(models.Model):
    """民情日记: a worker's own notebook. Private: only the author ever reads it.

    Not even leaders read another worker's diary: it holds impressions and half-formed notes.
    What others must know goes into a visit record or a case.
    """

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="diary_entries"
    )
    date = models.DateField(_("日期"), default=timezone.localdate)
    text = models.TextField(_("内容"), max_length=4000)
    tags = models.CharField(
        _("标签"), max_length=100, blank=True, help_text=_("用空格分隔，如：低保 维修")
    )
    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("涉及家庭"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="diary_mentions",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("民情日记")
        verbose_name_plural = pgettext_lazy("plural", "民情日记")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["author", "-date"], name="diary_author_date")]

    def __str__(self) -> str:
        # Never the text: this string goes into the audit log.
        return f"民情日记 {self.date:%Y-%m-%d}"

    @property
    def tag_list(self) -> list[str]:
        return self.tags.split()


# --- campaigns (走访活动) ----------------------------------------------------------------------


class CampaignKind(models.TextChoices):
    HOLIDAY = "holiday", _("节日走访")  # 春节、重阳、六一、中秋 …
    EVENT = "event", _("突发事件走访")  # after a disaster or a sudden event in a place or a home
    SPECIAL = "special", _("专项走访")  # a topic: 防汛、冬季取暖、反诈宣传 …


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")  # being prepared: no rule targets yet, invisible to grid workers
    OPEN = "open", _("进行中")  # launched: the target list exists and visits close targets
    CLOSED = "closed", _("已结束")  # closed by its creator or an office above: frozen


class TargetRule(models.TextChoices):
    TAGS = "tags", _("按人员类别")  # households that carry, or whose members carry, one of the tags
    ALL = "all", _("范围内全部家庭")
    MANUAL = "manual", _("手工选择")  # only the households added by hand


class Campaign(models.Model):
    """走访活动: a holiday visit (春节、重阳 …), visits after a sudden event, or a themed round.

    It covers a node's subtree during a window of days. Its target list (CampaignTarget) is
    built from the rule when it is launched and may be rebuilt or added to while it is open. A
    target is done when any visit to its household is recorded within the window (enter once).
    Status changes only through `visits.services.campaign_act` (the transition table there).
    """

    name = models.CharField(_("活动名称"), max_length=60)
    kind = models.CharField(_("活动类型"), max_length=10, choices=CampaignKind.choices)
    node = models.ForeignKey(
        "grids.Node", verbose_name=_("覆盖范围"), on_delete=models.PROTECT, related_name="+"
    )
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"))
    rule = models.CharField(
        _("走访对象"), max_length=10, choices=TargetRule.choices, default=TargetRule.TAGS
    )
    tags = models.ManyToManyField(
        "registry.Tag", verbose_name=_("人员类别"), blank=True, related_name="+"
    )
    description = models.TextField(_("活动说明"), max_length=1000, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    launched_at = models.DateTimeField(_("启动时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("结束人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    close_note = models.CharField(_("结束说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "走访活动")
        verbose_name_plural = pgettext_lazy("plural", "走访活动")
        ordering = ["-start", "-id"]
        indexes = [models.Index(fields=["status", "end"], name="campaign_status_end")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="campaign_window"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def covers(self, day) -> bool:
        return self.start <= day <= self.end


class TargetSource(models.TextChoices):
    RULE = "rule", _("按规则")
    MANUAL = "manual", _("手工添加")


class CampaignTarget(models.Model):
    """One household on a campaign's list: who is to go, and the visit that closed it.

    grid is the household's grid (scoping and progress per grid); it follows a household that
    moves while the campaign is open (registry.moves).
    visit/visited_at are kept by the services: the first visit to the household recorded within
    the window while the campaign is open, whether or not the visitor chose the campaign.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    household = models.ForeignKey(
        "registry.Household", verbose_name=_("家庭"), on_delete=models.CASCADE, related_name="+"
    )
    grid = models.ForeignKey("grids.Node", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(
        _("来源"), max_length=10, choices=TargetSource.choices, default=TargetSource.RULE
    )
    assignees = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("走访责任人"),
        blank=True,
        related_name="campaign_targets",
    )
    visit = models.ForeignKey(
        Visit,
        verbose_name=_("走访记录"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    visited_at = models.DateTimeField(_("走访时间"), null=True, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("singular", "走访对象")
        verbose_name_plural = pgettext_lazy("plural", "走访对象")
        ordering = ["grid__path", "household_id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "household"], name="campaign_target_once"),
        ]
        indexes = [
            models.Index(fields=["campaign", "grid"], name="campaign_target_grid"),
            models.Index(fields=["household", "visit"], name="campaign_target_household"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.household}"

    @property
    def done(self) -> bool:
        return self.visit_id is not None or self.visited_at is not None
