"""Who works where: users, their roles at a node of the place tree, and service teams (组团)."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from minqing.grids.models import Level


class User(AbstractUser):
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    mobile = models.CharField(_("手机"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = pgettext_lazy("plural", "用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    def save(self, *args, **kwargs):
        # A new password (set by its owner or an administrator, or made unusable) withdraws
        # the API tokens, as it ends the sessions: a token made on an unattended PC outlived
        # the reset. Compared with the stored hash: a rare write, one more read.
        fields = kwargs.get("update_fields")
        password_changed = (
            self.pk is not None
            and (fields is None or "password" in fields)  # a login's last_login: not asked
            and (
                self._password is not None
                or User.objects.filter(pk=self.pk).exclude(password=self.password).exists()
            )
        )
        super().save(*args, **kwargs)
        if password_changed:
            self.api_tokens.all().delete()


class Session(AbstractBaseSession):
    """A browser's session, with the signed-in user's id in a column of its own.

    Django keeps the user's id only inside the signed session data, so a signed-in request
    reads the session, decodes it, then reads the user: two round trips before any page work.
    With the id beside the data, minqing's session store reads the session, the user and
    their role assignments in one statement (`minqing.accounts.sessions`). The column is
    written from the session data each time the session is saved; the data stays the
    authority (the user read with it is used only when the two agree).
    """

    # No database constraint: a request in flight may still save the session of a user just
    # deleted; Django deletes a user's sessions with the user (on_delete) all the same.
    user = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )

    class Meta(AbstractBaseSession.Meta):
        verbose_name = _("会话")
        verbose_name_plural = pgettext_lazy("plural", "会话")

    @classmethod
    def get_session_store_class(cls):
        from minqing.accounts.sessions import SessionStore

        return SessionStore


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("网格员")
    COMMUNITY_WORKER = "community_worker", _("社区工作者")
    COMMUNITY_SECRETARY = "community_secretary", _("社区书记")
    STREET_OFFICER = "street_officer", _("街道干部")
    COUNTY_OFFICER = "county_officer", _("县指挥中心")
    ADMIN = "admin", _("系统管理员")
    # A cadre, party member or teacher paired with households in need (结对帮扶) or linked to
    # them by a contact duty; usually with the 仅本人 data scope: they see their own pairs.
    CADRE = "cadre", _("帮扶干部")


# The level a role is assigned at: a grid worker works at a grid, and so on.
ROLE_LEVEL = {
    Role.GRID_WORKER: Level.GRID,
    Role.COMMUNITY_WORKER: Level.COMMUNITY,
    Role.COMMUNITY_SECRETARY: Level.COMMUNITY,
    Role.STREET_OFFICER: Level.STREET,
    Role.COUNTY_OFFICER: Level.COUNTY,
    Role.ADMIN: Level.COUNTY,
    Role.CADRE: None,  # works from their unit's place, at any level
}


class DataScope(models.TextChoices):
    """The five data scopes Chinese back-office users know (RuoYi 数据权限)."""

    ALL = "all", _("全部数据")
    CUSTOM = "custom", _("自定数据")
    NODE = "node", _("本部门")
    NODE_AND_BELOW = "node_and_below", _("本部门及以下")
    SELF = "self", _("仅本人")


ERR_ROLE_LEVEL = _("{role}应分配在“{level}”一级的节点上。")


class RoleAssignment(models.Model):
    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="assignments"
    )
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices)
    node = models.ForeignKey(
        "grids.Node", verbose_name=_("所在节点"), on_delete=models.PROTECT, related_name="+"
    )
    data_scope = models.CharField(
        _("数据权限"), max_length=20, choices=DataScope.choices, default=DataScope.NODE_AND_BELOW
    )
    custom_nodes = models.ManyToManyField(
        "grids.Node",
        verbose_name=_("自定节点"),
        blank=True,
        related_name="+",
        help_text=_("数据权限为“自定数据”时可见的节点（含其下级）。"),
    )

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = pgettext_lazy("plural", "角色分配")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "node"], name="role_assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.node}"

    def clean(self) -> None:
        level = ROLE_LEVEL[Role(self.role)] if self.role else None
        if self.node_id and level is not None and self.node.level != level:
            message = ERR_ROLE_LEVEL.format(role=Role(self.role).label, level=Level(level).label)
            raise ValidationError({"node": message})


class ApiToken(models.Model):
    """A personal token for API clients; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=100)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "API 令牌")
        verbose_name_plural = pgettext_lazy("plural", "API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user: User, name: str) -> tuple["ApiToken", str]:
        raw = "mq_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, digest=cls.digest_of(raw), prefix=raw[:8])
        return token, raw


class MemberKind(models.TextChoices):
    COMMITTEE = "committee", _("两委委员")
    STAFF = "staff", _("工作人员")
    VOLUNTEER = "volunteer", _("志愿者")
    BUILDING_LEADER = "building_leader", _("楼组长")
    MASS_ORG = "mass_org", _("群团负责人")
    SERVING_PARTY = "serving_party", _("在职党员")
    RETIRED_PARTY = "retired_party", _("离退休党员")
    PROPERTY = "property", _("物业")


class Responsibility(models.IntegerChoices):
    NONE = 0, _("成员")
    FIRST = 1, _("第一责任人")
    SECOND = 2, _("第二责任人")


class ServiceTeam(models.Model):
    """一块区，一组团: each block (grid) has exactly one team of fixed members."""

    node = models.OneToOneField(
        "grids.Node",
        verbose_name=_("块区/网格"),
        on_delete=models.PROTECT,
        related_name="service_team",
    )
    name = models.CharField(_("组团名称"), max_length=100)
    office_phone = models.CharField(_("办公电话"), max_length=30, blank=True)
    office_address = models.CharField(_("办公地点"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("服务组团")
        verbose_name_plural = pgettext_lazy("plural", "服务组团")

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    team = models.ForeignKey(ServiceTeam, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("姓名"), max_length=50)
    kind = models.CharField(_("身份"), max_length=20, choices=MemberKind.choices)
    responsibility = models.PositiveSmallIntegerField(
        _("职责"), choices=Responsibility.choices, default=Responsibility.NONE
    )
    duty = models.CharField(_("分工"), max_length=100, blank=True)
    user = models.ForeignKey(
        User, verbose_name=_("系统账号"), null=True, blank=True, on_delete=models.SET_NULL
    )
    office_phone = models.CharField(_("办公电话"), max_length=30, blank=True)
    mobile = models.CharField(_("手机"), max_length=20, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "组团成员")
        verbose_name_plural = pgettext_lazy("plural", "组团成员")
        ordering = ["id"]
        constraints = [
            # One first and one second responsible person per team.
            models.UniqueConstraint(
                fields=["team", "responsibility"],
                condition=~models.Q(responsibility=0),
                name="team_one_person_per_responsibility",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"

    @property
    def published_mobile(self) -> str:
        """The mobile printed on what residents are handed (the team card, the household's
        contact card): the responsible persons' only — DOMAIN: "office phone and mobile of the
        responsible people". A volunteer's or 楼组长's own number stays in the office."""
        return self.mobile if self.responsibility else ""

    def sort_key(self):
        order = {Responsibility.FIRST: 0, Responsibility.SECOND: 1, Responsibility.NONE: 2}
        return (order[self.responsibility], self.id)
