"""民情档案: households, people, places and organisations, each in a base grid.

Models hold data and invariants only; writes go through registry.services so every change is
validated, scoped and audited the same way from the UI, the API and the import.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from minqing.core.fields import EncryptedTextField
from minqing.core.masking import (
    mask_birth_date,
    mask_birth_date_audited,
    mask_id_number,
    mask_note,
    mask_phone,
)


class TagTarget(models.TextChoices):
    PERSON = "person", pgettext_lazy("tag target", "人员")
    HOUSEHOLD = "household", pgettext_lazy("tag target", "家庭")


class Tag(models.Model):
    """A care or attention group (关爱/关注对象), configurable by the admin."""

    name = models.CharField(_("名称"), max_length=30, unique=True)
    target = models.CharField(
        _("适用于"), max_length=10, choices=TagTarget.choices, default=TagTarget.PERSON
    )
    description = models.CharField(_("说明"), max_length=200, blank=True)
    color = models.CharField(_("颜色"), max_length=7, default="#b45309")
    sensitive = models.BooleanField(
        _("敏感标签"), default=False, help_text=_("如重点人员：仅有查看权限的人可见。")
    )
    sort = models.PositiveIntegerField(_("排序"), default=0)
    # Enter once: a group defined by age (高龄: 80周岁以上) is given by minqing from the birth
    # date, at once when a person is saved and nightly as people come of age (registry.given_tags).
    min_age = models.PositiveSmallIntegerField(
        _("年满周岁自动列入"),
        null=True,
        blank=True,
        help_text=_("如高龄填 80：年满 80 周岁的人员自动列入；留空则不按年龄列入。"),
    )
    # And a group defined by disability (残疾: 持残疾证人员) from 残疾等级 (registry.given_tags).
    by_disability = models.BooleanField(
        _("有残疾等级自动列入"),
        default=False,
        help_text=_("如残疾：登记了残疾等级（一级至四级）的人员自动列入。"),
    )

    class Meta:
        verbose_name = _("人员类别标签")
        verbose_name_plural = _("人员类别标签")
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.name


class Housing(models.TextChoices):
    OWN = "own", _("自有")
    RENT = "rent", _("租住")
    PUBLIC = "public", _("公房")
    OTHER = "other", _("其他")


class Residence(models.TextChoices):
    PERMANENT = "permanent", _("常住")
    FLOATING = "floating", _("流动")
    SEPARATED = "separated", _("人户分离")


def household_short_name(head_name: str) -> str:
    """张三户 / "Household of 张三", in the reader's language (as Household.__str__)."""
    return gettext("%(head)s户") % {"head": head_name or gettext("（无户主）")}


class Household(models.Model):
    number = models.CharField(_("户号"), max_length=30, unique=True)
    address = models.CharField(_("现住址"), max_length=200)
    grid = models.ForeignKey(
        "grids.Node",
        verbose_name=_("所属网格"),
        on_delete=models.PROTECT,
        related_name="households",
    )
    building = models.ForeignKey(
        "grids.Node",
        verbose_name=_("楼栋"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    housing = models.CharField(
        _("住房性质"), max_length=10, choices=Housing.choices, default=Housing.OWN
    )
    floor_area = models.DecimalField(
        _("住房面积(m²)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    residence = models.CharField(
        _("居住类型"), max_length=10, choices=Residence.choices, default=Residence.PERMANENT
    )
    tags = models.ManyToManyField(
        Tag, verbose_name=_("家庭类别"), blank=True, related_name="households"
    )
    note = models.TextField(_("备注"), blank=True)
    head_name = models.CharField(
        _("户主姓名"), max_length=50, blank=True
    )  # kept by services from members
    member_count = models.PositiveSmallIntegerField(_("人口数"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("建档时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("家庭户")
        verbose_name_plural = _("家庭户")
        ordering = ["grid_id", "number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(floor_area__gte=0) | models.Q(floor_area__isnull=True),
                name="household_area_positive",
            ),
        ]

    @property
    def short_name(self) -> str:
        return household_short_name(self.head_name)

    def __str__(self) -> str:
        # In the reader's language; what is stored (the audit's object_repr) is taken with
        # core.i18n.source, in Chinese, and imports.validate.HouseholdPlan.label writes the same.
        if self.head_name:
            return gettext("%(head)s户 · %(address)s") % {
                "head": self.head_name,
                "address": self.address,
            }
        return gettext("（无户主）户 · %(address)s") % {"address": self.address}

    AUDITED_FIELDS = [
        "number",
        "address",
        "grid",
        "building",
        "housing",
        "floor_area",
        "residence",
        "note",
    ]


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Relation(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙子女")
    GRANDPARENT = "grandparent", _("祖父母")
    SIBLING = "sibling", _("兄弟姐妹")
    IN_LAW = "in_law", _("儿媳/女婿")
    OTHER = "other", _("其他")


class Employment(models.TextChoices):
    EMPLOYED = "employed", _("在业")
    FARMER = "farmer", _("务农")
    SELF = "self", _("个体经营")
    UNEMPLOYED = "unemployed", _("失业")
    RETIRED = "retired", _("离退休")
    STUDENT = "student", _("学生")
    CHILD = "child", _("学龄前")
    OTHER = "other", _("其他")


class Health(models.TextChoices):
    GOOD = "good", _("健康")
    CHRONIC = "chronic", _("慢性病")
    SERIOUS = "serious", _("重病")
    DISABLED = "disabled", _("残疾")


class DisabilityGrade(models.IntegerChoices):
    NONE = 0, _("无")
    ONE = 1, _("一级")
    TWO = 2, _("二级")
    THREE = 3, _("三级")
    FOUR = 4, _("四级")


class Person(models.Model):
    name = models.CharField(_("姓名"), max_length=50)
    # One ID number is one person. Empty only for people whose number is not yet known.
    # Encrypted at rest; found, de-duplicated and kept unique through id_number_hash.
    id_number = EncryptedTextField(_("公民身份号码"), null=True, blank=True, plain_max_length=18)
    id_number_hash = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )
    id_legacy = models.BooleanField(_("旧15位身份证"), default=False)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, blank=True)
    phone = EncryptedTextField(_("联系电话"), blank=True, default="", plain_max_length=20)
    ethnicity = models.CharField(_("民族"), max_length=20, default="汉族", blank=True)
    # 户籍地址: where the person is registered (户口), which for 人户分离 differs from where the
    # household lives; kept as the ledgers give it.
    registered_address = models.CharField(_("户籍地址"), max_length=200, blank=True, default="")
    household = models.ForeignKey(
        Household,
        verbose_name=_("所在家庭"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    relation = models.CharField(
        _("与户主关系"), max_length=12, choices=Relation.choices, blank=True
    )
    employment = models.CharField(
        _("就业状况"), max_length=12, choices=Employment.choices, blank=True
    )
    health = models.CharField(
        _("健康状况"), max_length=10, choices=Health.choices, default=Health.GOOD
    )
    disability_grade = models.PositiveSmallIntegerField(
        _("残疾等级"), choices=DisabilityGrade.choices, default=0
    )
    health_note = EncryptedTextField(
        _("健康/残疾说明"), blank=True, default="", plain_max_length=200
    )
    party_member = models.BooleanField(_("党员"), default=False)
    grid = models.ForeignKey(
        "grids.Node", verbose_name=_("所属网格"), on_delete=models.PROTECT, related_name="people"
    )
    tags = models.ManyToManyField(
        Tag, verbose_name=_("人员类别"), blank=True, related_name="people"
    )
    note = models.TextField(_("备注"), blank=True)
    # Search keys kept by services: pinyin, initials, last four digits. Never typed by anyone.
    # The ID number's last four are kept only as a keyed hash (registry.identity).
    name_pinyin = models.CharField(max_length=200, blank=True, editable=False)
    name_initials = models.CharField(max_length=100, blank=True, editable=False)
    id_last4_digest = models.CharField(max_length=16, blank=True, editable=False, db_index=True)
    phone_last4 = models.CharField(max_length=4, blank=True, editable=False, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("建档时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["grid_id", "household_id", "id"]
        permissions = [("reveal_personal_data", "可查看身份证号和电话明文")]
        indexes = [
            models.Index(fields=["grid", "id"], name="person_grid_idx"),
            models.Index(fields=["name"], name="person_name_idx"),
            models.Index(fields=["birth_date"], name="person_birth_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(disability_grade__gte=0, disability_grade__lte=4),
                name="person_disability_grade_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    AUDITED_FIELDS = [
        "name",
        "id_number",
        "birth_date",
        "sex",
        "phone",
        "ethnicity",
        "registered_address",
        "household",
        "relation",
        "employment",
        "health",
        "disability_grade",
        "health_note",
        "party_member",
        "grid",
        "note",
    ]
    # What the audit log keeps of the personal fields: masked numbers, the birth year, a
    # fingerprint of notes.
    MASKED = {
        "id_number": mask_id_number,
        "phone": mask_phone,
        "health_note": mask_note,
        "birth_date": mask_birth_date_audited,
    }

    @property
    def id_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def birth_shown(self) -> str:
        """The birth date as pages, exports and the API show it: the year only while an ID
        number is on record (it would fill in the masked ID), in full when none is."""
        if self.id_number:
            return mask_birth_date(self.birth_date)
        return self.birth_date.isoformat() if self.birth_date else ""

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    def age(self, today=None) -> int | None:
        if not self.birth_date:
            return None
        today = today or timezone.localdate()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


class NeedKind(models.TextChoices):
    NEED = "need", _("需求")
    RESOURCE = "resource", _("资源")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("待解决")
    MET = "met", _("已解决")


class HouseholdNeed(models.Model):
    """需求信息、资源信息: what a household needs, and what it can offer the community."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="needs")
    kind = models.CharField(
        _("类型"), max_length=10, choices=NeedKind.choices, default=NeedKind.NEED
    )
    category = models.CharField(_("类别"), max_length=30)
    description = models.CharField(_("内容"), max_length=300)
    status = models.CharField(
        _("状态"), max_length=10, choices=NeedStatus.choices, default=NeedStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("需求与资源")
        verbose_name_plural = _("需求与资源")
        ordering = ["kind", "-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.category}"


class PlaceKind(models.TextChoices):
    HOUSE = "house", _("实有房屋")
    SHOP = "shop", _("商铺")
    SCHOOL = "school", _("学校")
    MARKET = "market", _("市场")
    HOSPITAL = "hospital", _("医院/诊所")
    OTHER = "other", _("其他场所")


class GridRecord(models.Model):
    """A place or an organisation: a named thing in a base grid, with a contact."""

    name = models.CharField(_("名称"), max_length=100)
    grid = models.ForeignKey(
        "grids.Node",
        verbose_name=_("所属网格"),
        on_delete=models.PROTECT,
        related_name="%(class)ss",
    )
    contact = models.CharField(_("联系人"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    note = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["grid_id", "kind", "name"]

    def __str__(self) -> str:
        return self.name

    def choice_label(self) -> str:
        """Its name with its grid, for lists to choose from: a county has several 东门幼儿园."""
        return f"{self.name}（{self.grid.name}）"

    AUDITED_FIELDS = ["kind", "name", "address", "grid", "contact", "phone", "note"]
    MASKED = {"phone": mask_phone}

    @property
    def phone_masked(self) -> str:
        """The contact's phone, usually a person's own mobile: masked as residents' are."""
        return mask_phone(self.phone)


class Place(GridRecord):
    kind = models.CharField(_("类型"), max_length=10, choices=PlaceKind.choices)
    address = models.CharField(_("地址"), max_length=200)

    class Meta(GridRecord.Meta):
        verbose_name = _("场所")
        verbose_name_plural = _("场所")


class OrgKind(models.TextChoices):
    RESIDENT_UNIT = "unit", _("驻区单位")
    SOCIAL = "social", _("社会组织")
    ASSOCIATION = "association", _("协会")
    ENTERPRISE = "enterprise", _("企业")
    OTHER = "other", _("其他")


class Organisation(GridRecord):
    kind = models.CharField(_("类型"), max_length=12, choices=OrgKind.choices)
    address = models.CharField(_("地址"), max_length=200, blank=True)

    class Meta(GridRecord.Meta):
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
