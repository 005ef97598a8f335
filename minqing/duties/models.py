"""Contact duties (干部直接联系群众): quotas per role, linked communities and households, days in the community, monthly compliance.

A duty rule (DutyRule) says what a kind of cadre owes: so many communities (联系点), hardship
households (联系户) and service targets (服务对象) linked, so many days a month spent in a
community, and a visit to each linked household or target every so many months. A duty holder
(DutyHolder) is a user under a rule, in a unit, placed at a node of the tree (the node of their
unit: offices see the holders whose node is in their subtree). Links (DutyLink) tie a holder to
a community, a household or a person, with start and end dates. Days in the community
(DutyDay) are one row per holder and date.

Visits are not entered here: a visits.Visit with the holder among its visitors, to a linked
household (or to the household of a linked person), is the month's visit. Enter a fact once.

Models hold data and invariants only; writes go through `duties.services`, reads through
`duties.selectors`.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

ERR_LINK_TARGET = _(
    "联系对象与类型不符：联系社区填社区，联系户填家庭，服务对象填人员，三者只填一个。"
)
ERR_LINK_COMMUNITY_LEVEL = _("联系点应为社区/村一级的区划。")
ERR_LINK_DATES = _("结束日期不能早于开始日期。")
ERR_HOLDER_DATES = _("任职结束日期不能早于开始日期。")


class DutyRule(models.Model):
    """What one kind of cadre owes each month (configurable in the admin)."""

    code = models.SlugField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=30)
    communities = models.PositiveSmallIntegerField(_("联系社区数"), default=0)
    households = models.PositiveSmallIntegerField(_("联系困难户数"), default=0)
    targets = models.PositiveSmallIntegerField(_("联系服务对象数"), default=0)
    days_per_month = models.PositiveSmallIntegerField(
        _("每月驻社区天数"),
        default=0,
        help_text=_("每月至少在社区蹲点/驻社区的天数，0 表示不要求。"),
    )
    visit_every_months = models.PositiveSmallIntegerField(
        _("走访频次（月）"),
        default=1,
        help_text=_("每个联系户、服务对象每几个月至少走访一次：1 为每月，3 为每季度，0 为不要求。"),
    )
    description = models.CharField(_("说明"), max_length=200, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("联系群众任务")
        verbose_name_plural = pgettext_lazy("plural", "联系群众任务")
        ordering = ["sort", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(days_per_month__lte=31), name="duty_rule_days_in_month"
            ),
            models.CheckConstraint(
                condition=Q(visit_every_months__lte=12), name="duty_rule_visit_every_year"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DutyHolder(models.Model):
    """A cadre (or community secretary) who holds contact duties under a rule."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("干部"),
        on_delete=models.CASCADE,
        related_name="duty_holders",
    )
    rule = models.ForeignKey(
        DutyRule, verbose_name=_("任务类型"), on_delete=models.PROTECT, related_name="holders"
    )
    unit = models.CharField(_("单位"), max_length=100, help_text=_("如：县民政局、城关街道办。"))
    position = models.CharField(_("职务"), max_length=50, blank=True)
    # The node of the holder's unit (county for a county bureau, the street for a street
    # office, the community for a secretary): an office sees the holders in its subtree.
    node = models.ForeignKey(
        "grids.Node", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+"
    )
    active_from = models.DateField(_("任务开始日期"), default=timezone.localdate)
    active_to = models.DateField(
        _("任务结束日期"), null=True, blank=True, help_text=_("留空为长期。")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("singular", "联系群众干部")
        verbose_name_plural = pgettext_lazy("plural", "联系群众干部")
        ordering = ["unit", "id"]
        indexes = [models.Index(fields=["node", "active_from"], name="duty_holder_node_from")]
        constraints = [
            # One open-ended duty per user; a change of rule ends the old row first.
            models.UniqueConstraint(
                fields=["user"], condition=Q(active_to__isnull=True), name="duty_holder_one_open"
            ),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gte=models.F("active_from")),
                name="duty_holder_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.unit} · {self.rule}"

    def clean(self) -> None:
        if self.active_from and self.active_to and self.active_to < self.active_from:
            raise ValidationError({"active_to": ERR_HOLDER_DATES})

    def active_on(self, day) -> bool:
        return self.active_from <= day and (self.active_to is None or self.active_to >= day)


class LinkKind(models.TextChoices):
    COMMUNITY = "community", _("联系社区")
    HOUSEHOLD = "household", _("联系户")
    TARGET = "target", _("服务对象")


class DutyLink(models.Model):
    """联系点 / 联系户 / 服务对象: a holder linked to a community, a household or a person."""

    holder = models.ForeignKey(
        DutyHolder, verbose_name=_("干部"), on_delete=models.CASCADE, related_name="links"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=LinkKind.choices)
    community = models.ForeignKey(
        "grids.Node",
        verbose_name=_("联系社区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("联系户"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="duty_links",
    )
    person = models.ForeignKey(
        "registry.Person",
        verbose_name=_("服务对象"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="duty_links",
    )
    started_on = models.DateField(_("开始日期"), default=timezone.localdate)
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("singular", "联系对象")
        verbose_name_plural = pgettext_lazy("plural", "联系对象")
        ordering = ["holder_id", "kind", "started_on", "id"]
        indexes = [models.Index(fields=["holder", "kind"], name="duty_link_holder_kind")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="community",
                        community__isnull=False,
                        household__isnull=True,
                        person__isnull=True,
                    )
                    | Q(
                        kind="household",
                        community__isnull=True,
                        household__isnull=False,
                        person__isnull=True,
                    )
                    | Q(
                        kind="target",
                        community__isnull=True,
                        household__isnull=True,
                        person__isnull=False,
                    )
                ),
                name="duty_link_one_target",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="duty_link_dates",
            ),
            # The same community, household or person is linked once at a time.
            models.UniqueConstraint(
                fields=["holder", "community"],
                condition=Q(ended_on__isnull=True, kind="community"),
                name="duty_link_open_community",
            ),
            models.UniqueConstraint(
                fields=["holder", "household"],
                condition=Q(ended_on__isnull=True, kind="household"),
                name="duty_link_open_household",
            ),
            models.UniqueConstraint(
                fields=["holder", "person"],
                condition=Q(ended_on__isnull=True, kind="target"),
                name="duty_link_open_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.target}"

    @property
    def target(self):
        return {
            LinkKind.COMMUNITY: self.community,
            LinkKind.HOUSEHOLD: self.household,
            LinkKind.TARGET: self.person,
        }.get(self.kind)

    def clean(self) -> None:
        from minqing.grids.models import Level

        filled = {
            LinkKind.COMMUNITY: self.community_id,
            LinkKind.HOUSEHOLD: self.household_id,
            LinkKind.TARGET: self.person_id,
        }
        if not self.kind or not filled.get(self.kind) or sum(bool(v) for v in filled.values()) != 1:
            raise ValidationError(ERR_LINK_TARGET)
        if self.kind == LinkKind.COMMUNITY and self.community.level != Level.COMMUNITY:
            raise ValidationError({"community": ERR_LINK_COMMUNITY_LEVEL})
        if self.started_on and self.ended_on and self.ended_on < self.started_on:
            raise ValidationError({"ended_on": ERR_LINK_DATES})


class DayKind(models.TextChoices):
    STAY = "stay", _("蹲点")
    RESIDENT = "resident", _("驻社区")
    RECEPTION = "reception", _("接待群众")


class DutyDay(models.Model):
    """A day the holder spent in a community (蹲点/驻社区). One row per holder and date."""

    holder = models.ForeignKey(
        DutyHolder, verbose_name=_("干部"), on_delete=models.CASCADE, related_name="days"
    )
    community = models.ForeignKey(
        "grids.Node", verbose_name=_("社区"), on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("日期"))
    kind = models.CharField(_("方式"), max_length=10, choices=DayKind.choices, default=DayKind.STAY)
    note = models.CharField(_("工作内容"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("singular", "驻社区天数")
        verbose_name_plural = pgettext_lazy("plural", "驻社区天数")
        ordering = ["-date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["holder", "date"], name="duty_day_one_per_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"
