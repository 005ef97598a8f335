"""Pairing assistance (结对帮扶): helpers paired with targets in need, their help log, contact rhythms, coverage.

Models hold data and invariants only. Writes go through `assistance.services`; reads through
`assistance.selectors`, which scope every query by the asking user (accounts.access):

- a pairing is placed in the tree by its target (a household's grid; a person's household's
  grid; a community or village itself; a school's or organisation's grid), copied to
  `Pairing.grid` so "the pairings of my subtree" is one indexed filter;
- a helper always sees the pairings they are a helper of, wherever they are (仅本人).

Contact made with a target is read, never typed twice: every help-log entry is a contact, and so
is a visits.Visit to the paired household whose visitors include the helper's user account.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from minqing.registry.models import household_short_name


class HelperKind(models.TextChoices):
    CADRE = "cadre", _("党员干部")
    PARTY = "party", _("在职党员")
    TEACHER = "teacher", _("教师")
    MOTHER = "mother", _("爱心妈妈")
    VOLUNTEER = "volunteer", _("志愿者")
    UNIT = "unit", _("单位")


class PairingKind(models.TextChoices):
    ONE_TO_ONE = "one", _("一对一")
    MANY_TO_ONE = "many", _("多对一")
    GROUP = "group", _("小组")
    UNIT = "unit", _("单位对单位")


class TargetKind(models.TextChoices):
    HOUSEHOLD = "household", _("家庭户")
    PERSON = "person", _("个人")
    NODE = "node", _("村/社区")
    PLACE = "place", _("学校/场所")
    ORGANISATION = "organisation", _("单位/组织")


# The FK of Pairing that holds the target, per target kind.
TARGET_FIELD = {
    TargetKind.HOUSEHOLD: "household",
    TargetKind.PERSON: "person",
    TargetKind.NODE: "node",
    TargetKind.PLACE: "place",
    TargetKind.ORGANISATION: "organisation",
}


class RhythmUnit(models.TextChoices):
    DAY = "day", _("天")
    WEEK = "week", _("周")
    MONTH = "month", _("月")


class Cause(models.TextChoices):
    """致贫/困难原因 (DOMAIN.md): each decides a matching strategy (see strategies.py)."""

    ATTITUDE = "attitude", _("思想观念（等靠要）")
    AGE = "age", _("年老")
    DISABILITY = "disability", _("残疾")
    ILLNESS = "illness", _("疾病")
    DISASTER = "disaster", _("灾害")
    SKILLS = "skills", _("缺技能")
    CAPITAL = "capital", _("缺资金")
    INFORMATION = "information", _("缺信息")


class WorkAbility(models.TextChoices):
    ABLE = "able", _("有劳动能力")
    UNABLE = "unable", _("无劳动能力")
    UNKNOWN = "", _("未评估")


class HelpKind(models.TextChoices):
    # 五送
    SKILLS = "skills", _("送技能")
    LABOUR = "labour", _("送劳务")
    GOODS = "goods", _("送物资")
    INDUSTRY = "industry", _("送产业")
    HEALTH = "health", _("送健康")
    # 六项帮扶内容
    LIVING = "living", _("生活帮扶")
    PRODUCTION = "production", _("生产帮扶")
    TECHNOLOGY = "technology", _("技术帮扶")
    POLICY = "policy", _("政策法规帮扶")
    EMOTIONAL = "emotional", _("情感帮扶")
    EMPLOYMENT = "employment", _("就业帮扶")
    VISIT = "visit", _("走访慰问")


class FundSource(models.TextChoices):
    POVERTY = "poverty", _("扶贫资金")
    CADRE = "cadre", _("干部捐助")
    SOCIAL = "social", _("社会募集")


class Programme(models.Model):
    """帮扶项目: who is paired with whom, how, and how often they must be in contact."""

    code = models.SlugField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    pairing_kind = models.CharField(_("结对方式"), max_length=10, choices=PairingKind.choices)
    target_kind = models.CharField(_("帮扶对象类型"), max_length=15, choices=TargetKind.choices)
    every = models.PositiveSmallIntegerField(_("联系间隔"), default=1)
    unit = models.CharField(
        _("间隔单位"), max_length=5, choices=RhythmUnit.choices, default=RhythmUnit.MONTH
    )
    on_spring_festival = models.BooleanField(_("春节走访"), default=False)
    on_childrens_day = models.BooleanField(_("六一走访"), default=False)
    on_birthday = models.BooleanField(
        _("生日走访"), default=False, help_text=_("帮扶对象为个人时，在其生日前后走访。")
    )
    target_tag = models.ForeignKey(
        "registry.Tag",
        verbose_name=_("覆盖对象类别"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("用于统计覆盖率，如孤儿、低保、特困。"),
    )
    coverage_goal = models.PositiveSmallIntegerField(
        _("覆盖率目标(%)"), null=True, blank=True, help_text=_("如孤儿结对 100%。")
    )
    description = models.CharField(_("说明"), max_length=200, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("帮扶项目")
        verbose_name_plural = pgettext_lazy("plural", "帮扶项目")
        ordering = ["sort", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(every__gte=1), name="programme_every_pos"),
            models.CheckConstraint(
                condition=Q(coverage_goal__isnull=True) | Q(coverage_goal__lte=100),
                name="programme_goal_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def rhythm_label(self) -> str:
        """The contact rhythm in words (每周 / 每2周 / 每季度，另春节、六一), in the UI's language."""
        n = {"n": self.every}
        if self.unit == RhythmUnit.WEEK:
            base = gettext("每周") if self.every == 1 else gettext("每%(n)d周") % n
        elif self.unit == RhythmUnit.DAY:
            base = gettext("每%(n)d天") % n
        elif self.every == 1:
            base = gettext("每月")
        elif self.every == 3:
            base = gettext("每季度")
        else:
            base = gettext("每%(n)d个月") % n
        extra = [
            name
            for flag, name in (
                (self.on_spring_festival, gettext("春节")),
                (self.on_childrens_day, gettext("六一")),
                (self.on_birthday, gettext("生日")),
            )
            if flag
        ]
        if not extra:
            return base
        return gettext("%(base)s，另%(days)s") % {"base": base, "days": gettext("、").join(extra)}


class Helper(models.Model):
    """帮扶人: a staff user, or somebody outside the system (an 爱心妈妈, a teacher, a unit)."""

    kind = models.CharField(_("类型"), max_length=10, choices=HelperKind.choices)
    name = models.CharField(_("姓名/单位名称"), max_length=50)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    unit_name = models.CharField(_("所在单位"), max_length=100, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("系统账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="helper",
    )
    # Where the helper is registered (their unit's or community's node): offices see the
    # helpers of their subtree, and may pick the helpers registered above them.
    node = models.ForeignKey(
        "grids.Node", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    disqualified_on = models.DateField(_("取消资格日期"), null=True, blank=True)
    disqualified_reason = models.CharField(_("取消资格原因"), max_length=200, blank=True)
    disqualified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("帮扶人")
        verbose_name_plural = pgettext_lazy("plural", "帮扶人")
        ordering = ["node_id", "kind", "name", "id"]
        indexes = [models.Index(fields=["node", "kind"], name="helper_node_kind")]

    def __str__(self) -> str:
        return self.name

    @property
    def qualified(self) -> bool:
        return self.disqualified_on is None


class HelperGroup(models.Model):
    """A pairing group (帮扶小组): several helpers who look after a few households together."""

    programme = models.ForeignKey(
        Programme, verbose_name=_("帮扶项目"), on_delete=models.PROTECT, related_name="groups"
    )
    name = models.CharField(_("小组名称"), max_length=50)
    node = models.ForeignKey(
        "grids.Node", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+"
    )
    members = models.ManyToManyField(Helper, verbose_name=_("组员"), related_name="groups")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("帮扶小组")
        verbose_name_plural = pgettext_lazy("plural", "帮扶小组")
        ordering = ["programme_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="helper_group_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Pairing(models.Model):
    """结对: helper(s) ↔ one target, from `start` until `end` (open while end is empty)."""

    programme = models.ForeignKey(
        Programme, verbose_name=_("帮扶项目"), on_delete=models.PROTECT, related_name="pairings"
    )
    target_kind = models.CharField(_("帮扶对象类型"), max_length=15, choices=TargetKind.choices)
    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("帮扶家庭"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pairings",
    )
    person = models.ForeignKey(
        "registry.Person",
        verbose_name=_("帮扶对象"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pairings",
    )
    node = models.ForeignKey(
        "grids.Node",
        verbose_name=_("结对村/社区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pairings",
    )
    place = models.ForeignKey(
        "registry.Place",
        verbose_name=_("结对学校/场所"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pairings",
    )
    organisation = models.ForeignKey(
        "registry.Organisation",
        verbose_name=_("结对单位"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pairings",
    )
    # The target's place in the tree (scoping): see the module docstring.
    grid = models.ForeignKey("grids.Node", on_delete=models.PROTECT, related_name="+")
    group = models.ForeignKey(
        HelperGroup,
        verbose_name=_("帮扶小组"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pairings",
    )
    helpers = models.ManyToManyField(Helper, verbose_name=_("帮扶人"), related_name="pairings")
    causes = models.JSONField(_("困难原因"), default=list, blank=True)
    work_ability = models.CharField(
        _("劳动能力"), max_length=10, choices=WorkAbility.choices, blank=True, default=""
    )
    note = models.CharField(_("帮扶计划/备注"), max_length=500, blank=True)
    start = models.DateField(_("结对日期"), default=timezone.localdate)
    end = models.DateField(_("结束日期"), null=True, blank=True)
    end_reason = models.CharField(_("结束原因"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("结对关系")
        verbose_name_plural = pgettext_lazy("plural", "结对关系")
        ordering = ["-start", "-id"]
        indexes = [
            models.Index(fields=["grid", "end"], name="pairing_grid_end"),
            models.Index(fields=["programme", "end"], name="pairing_programme_end"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="pairing_end_after_start",
            ),
            # Exactly the FK of the target kind is set.
            models.CheckConstraint(
                condition=(
                    Q(
                        target_kind="household",
                        household__isnull=False,
                        person__isnull=True,
                        node__isnull=True,
                        place__isnull=True,
                        organisation__isnull=True,
                    )
                    | Q(
                        target_kind="person",
                        household__isnull=True,
                        person__isnull=False,
                        node__isnull=True,
                        place__isnull=True,
                        organisation__isnull=True,
                    )
                    | Q(
                        target_kind="node",
                        household__isnull=True,
                        person__isnull=True,
                        node__isnull=False,
                        place__isnull=True,
                        organisation__isnull=True,
                    )
                    | Q(
                        target_kind="place",
                        household__isnull=True,
                        person__isnull=True,
                        node__isnull=True,
                        place__isnull=False,
                        organisation__isnull=True,
                    )
                    | Q(
                        target_kind="organisation",
                        household__isnull=True,
                        person__isnull=True,
                        node__isnull=True,
                        place__isnull=True,
                        organisation__isnull=False,
                    )
                ),
                name="pairing_one_target",
            ),
        ]

    def __str__(self) -> str:
        # Goes into the audit log: the target's name, never a number.
        return f"{self.programme.name} · {self.target_name}"

    @property
    def target(self):
        return getattr(self, TARGET_FIELD[TargetKind(self.target_kind)])

    @property
    def target_name(self) -> str:
        t = self.target
        if t is None:
            return ""
        if self.target_kind == TargetKind.HOUSEHOLD:
            return household_short_name(t.head_name)
        return t.name

    @property
    def active(self) -> bool:
        return self.end is None

    def cause_labels(self) -> list[str]:
        labels = dict(Cause.choices)
        return [str(labels[c]) for c in self.causes if c in labels]


class HelpEntry(models.Model):
    """帮扶记录: what a helper did for a pairing's target on a day (each entry is a contact)."""

    pairing = models.ForeignKey(
        Pairing,
        verbose_name=pgettext_lazy("singular", "结对"),
        on_delete=models.CASCADE,
        related_name="help_entries",
    )
    helper = models.ForeignKey(
        Helper,
        verbose_name=_("帮扶人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="help_entries",
    )
    kind = models.CharField(_("帮扶内容"), max_length=12, choices=HelpKind.choices)
    occurred_on = models.DateField(_("日期"), default=timezone.localdate)
    text = models.TextField(_("帮扶情况"), max_length=2000, blank=True)
    amount = models.DecimalField(
        _("资金(元)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    goods = models.CharField(_("物资"), max_length=200, blank=True)
    goods_value = models.DecimalField(
        _("物资折价(元)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    fund_source = models.CharField(
        _("资金来源"), max_length=10, choices=FundSource.choices, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("singular", "帮扶记录")
        verbose_name_plural = pgettext_lazy("plural", "帮扶记录")
        ordering = ["-occurred_on", "-id"]
        indexes = [
            models.Index(fields=["pairing", "-occurred_on"], name="help_pairing_on"),
            models.Index(fields=["occurred_on"], name="help_on"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="help_amount_pos"
            ),
            models.CheckConstraint(
                condition=Q(goods_value__isnull=True) | Q(goods_value__gte=0),
                name="help_goods_value_pos",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_on:%Y-%m-%d}"

    @property
    def total(self):
        return (self.amount or 0) + (self.goods_value or 0)
