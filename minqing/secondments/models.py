"""组团派驻: a sending unit's team at a receiving unit for a cycle (组团式支教, 医疗帮扶 …).

A secondment (派驻) runs for a cycle (a school: 3 years) at a receiving unit that sits at a node
of the place tree; that node decides who sees it (accounts.access, node_field="node"). Members
serve turns (轮换期, default 12 months) inside the cycle. Attendance (考勤) is one row per member
and date; activities (公开课, 送课下乡, 家访 …) name the members who took part.

Models hold data and invariants only; the rules live in secondments.services.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from minqing.core.masking import mask_phone


class SecondmentKind(models.TextChoices):
    TEACHING = "teaching", _("组团式支教")
    MEDICAL = "medical", _("组团式医疗帮扶")
    OTHER = "other", _("其他组团派驻")


class Secondment(models.Model):
    kind = models.CharField(
        _("类型"), max_length=10, choices=SecondmentKind.choices, default=SecondmentKind.TEACHING
    )
    name = models.CharField(_("名称"), max_length=100)
    # Units: a registry record when there is one, its name always (a free name otherwise).
    sending_name = models.CharField(_("派出单位"), max_length=100)
    sending_org = models.ForeignKey(
        "registry.Organisation",
        verbose_name=_("派出单位（组织档案）"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sending_place = models.ForeignKey(
        "registry.Place",
        verbose_name=_("派出单位（场所档案）"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    receiving_name = models.CharField(_("接收单位"), max_length=100)
    receiving_place = models.ForeignKey(
        "registry.Place",
        verbose_name=_("接收单位（场所档案）"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    receiving_org = models.ForeignKey(
        "registry.Organisation",
        verbose_name=_("接收单位（组织档案）"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Where the receiving unit sits: who may see the team (the node and everyone above it).
    node = models.ForeignKey(
        "grids.Node", verbose_name=_("接收单位所在区划"), on_delete=models.PROTECT, related_name="+"
    )
    cycle_start = models.DateField(_("派驻周期开始"))
    cycle_end = models.DateField(_("派驻周期结束"))
    turn_months = models.PositiveSmallIntegerField(
        _("成员轮换期（月）"), default=12, help_text=_("每名成员一轮的最长时间，支教一般为1年。")
    )
    note = models.TextField(_("备注"), blank=True, max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("组团派驻")
        verbose_name_plural = pgettext_lazy("plural", "组团派驻")
        ordering = ["-cycle_start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cycle_end__gt=models.F("cycle_start")),
                name="secondment_cycle_order",
            ),
            models.CheckConstraint(
                condition=models.Q(turn_months__gte=1, turn_months__lte=60),
                name="secondment_turn_months_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_teaching(self) -> bool:
        """A school team reports by school term; the others by half-year (selectors.term_of)."""
        return self.kind == SecondmentKind.TEACHING

    @property
    def report_name(self):
        return REPORT_NAMES[self.is_teaching]

    @property
    def role_choices(self) -> list[tuple[str, str]]:
        """The roles a member of this kind of team may have: no teachers in a medical team."""
        left_out = KIND_LEFT_OUT.get(self.kind, {}).get("roles", ())
        return [c for c in MemberRole.choices if c[0] not in left_out]

    @property
    def activity_choices(self) -> list[tuple[str, str]]:
        left_out = KIND_LEFT_OUT.get(self.kind, {}).get("activities", ())
        return [c for c in ActivityKind.choices if c[0] not in left_out]

    AUDITED_FIELDS = [
        "kind",
        "name",
        "sending_name",
        "receiving_name",
        "node",
        "cycle_start",
        "cycle_end",
        "turn_months",
        "note",
    ]


class MemberRole(models.TextChoices):
    LEADER = "leader", _("队长")
    TEACHER = "teacher", _("教师")
    DOCTOR = "doctor", _("医生")
    STAFF = "staff", _("工作人员")


class SecondmentMember(models.Model):
    """One turn of one person in a team; a second turn is a second row."""

    secondment = models.ForeignKey(Secondment, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    role = models.CharField(_("角色"), max_length=10, choices=MemberRole.choices)
    speciality = models.CharField(_("学科/专长"), max_length=50, blank=True)
    turn_start = models.DateField(_("轮换开始"))
    turn_end = models.DateField(_("轮换结束"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("系统账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="secondment_turns",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("派驻成员")
        verbose_name_plural = pgettext_lazy("plural", "派驻成员")
        ordering = ["secondment_id", "turn_start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(turn_end__gte=models.F("turn_start")),
                name="secondment_member_turn_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_role_display()}）"

    AUDITED_FIELDS = ["name", "phone", "role", "speciality", "turn_start", "turn_end", "user"]
    MASKED = {"phone": mask_phone}

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    def on_turn(self, day) -> bool:
        return self.turn_start <= day <= self.turn_end


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("出勤")
    LATE = "late", _("迟到")
    LEAVE = "leave", _("请假")
    ABSENT = "absent", _("缺勤")


class Attendance(models.Model):
    """考勤: one row per member and date."""

    member = models.ForeignKey(
        SecondmentMember, on_delete=models.CASCADE, related_name="attendance"
    )
    date = models.DateField(_("日期"))
    status = models.CharField(_("考勤"), max_length=10, choices=AttendanceStatus.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("考勤")
        verbose_name_plural = pgettext_lazy("plural", "考勤")
        ordering = ["date", "member_id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "date"], name="attendance_one_per_day"),
        ]
        indexes = [models.Index(fields=["date"], name="attendance_date_idx")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_status_display()}"


class ActivityKind(models.TextChoices):
    OPEN_CLASS = "open_class", _("公开课")
    SEND_CLASS = "send_class", _("送课下乡")
    HOME_VISIT = "home_visit", _("家访")
    CLINIC = "clinic", _("义诊")
    LECTURE = "lecture", _("讲座")
    TRAINING = "training", _("教研培训")
    OTHER = "other", _("其他")


class Activity(models.Model):
    secondment = models.ForeignKey(Secondment, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(_("活动类型"), max_length=12, choices=ActivityKind.choices)
    date = models.DateField(_("日期"))
    title = models.CharField(_("主题"), max_length=100)
    members = models.ManyToManyField(
        SecondmentMember, verbose_name=_("参与成员"), related_name="activities"
    )
    place = models.CharField(_("地点"), max_length=100, blank=True)
    participants = models.PositiveIntegerField(_("受益/参与人数"), default=0)
    note = models.TextField(_("说明"), blank=True, max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("派驻活动")
        verbose_name_plural = pgettext_lazy("plural", "派驻活动")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["secondment", "date"], name="activity_secondment_date")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.title}"


# Chinese sources; the UI translates them, exports and audit entries keep the source (core.i18n).
REPORT_NAMES = {True: _("学期报告"), False: _("半年报告")}

# What a kind of team does not have (the forms offer the rest; stored rows are left as they are).
KIND_LEFT_OUT = {
    SecondmentKind.TEACHING: {"roles": ("doctor",), "activities": ("clinic",)},
    SecondmentKind.MEDICAL: {"roles": ("teacher",), "activities": ("open_class", "send_class")},
}
