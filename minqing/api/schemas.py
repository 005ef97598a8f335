"""API shapes. Sensitive numbers are always masked here; /reveal is the only way to the full value."""

import datetime
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from ninja import Schema
from pydantic import Field, ValidationInfo, field_validator, model_validator

ERR_NUL = _("不能包含 NUL 字符。")
ERR_NOT_OBJECT = _("请求体须为 JSON 对象（{…}）。")


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class InSchema(Schema):
    """What clients send. No text may contain NUL: PostgreSQL cannot store or compare it (and
    SQLite would store it), so it is refused here with 422 on every database alike."""

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value):
        if _has_nul(value):
            raise ValueError(ERR_NUL)
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _trimmed_codes(cls, value, info: ValidationInfo):
        # A place's code with a space around it (" 330188001001001 ", pasted) named no place
        # in a body where the list filters trim it: every *_code is trimmed.
        if isinstance(value, str) and (info.field_name or "").endswith("_code"):
            return value.strip()
        return value

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, value):
        # A body of [1, 2], null or "x" read as an empty PATCH and answered 200.
        # (ninja hands a non-dict to the validators wrapped in its DjangoGetter, as `_obj`.)
        if isinstance(getattr(value, "_obj", value), (list, tuple, str, int, float, type(None))):
            raise ValueError(str(ERR_NOT_OBJECT))
        return value


class ErrorOut(Schema):
    detail: str


class FieldErrorsOut(Schema):
    detail: str
    errors: dict[str, list[str]]


class NodeOut(Schema):
    id: int
    code: str
    name: str
    level: int
    level_label: str
    parent_code: str | None
    path: str
    has_boundary: bool


class TagOut(Schema):
    id: int
    name: str
    target: str
    description: str


class PersonOut(Schema):
    id: int
    name: str
    id_number_masked: str
    id_legacy: bool
    birth_date: datetime.date | None = Field(
        description="Only for people with no ID number: with one, the date would fill in "
        "id_number_masked (reveal the ID number instead)."
    )
    birth_year: int | None
    age: int | None
    sex: str
    phone_masked: str
    ethnicity: str
    registered_address: str
    household_id: int | None
    relation: str
    employment: str
    health: str
    disability_grade: int
    party_member: bool
    grid_code: str
    grid_name: str
    tags: list[str]
    note: str


class PersonIn(InSchema):
    name: str = Field(max_length=50)
    id_number: str = Field("", max_length=30)
    birth_date: datetime.date | None = None
    sex: str = Field("", pattern=r"^(M|F)?$")
    phone: str = Field("", max_length=30)
    ethnicity: str = Field("汉族", max_length=20)
    registered_address: str = Field("", max_length=200)
    household_id: int | None = Field(None, ge=1, le=2**62)
    relation: str = Field("", max_length=12)
    grid_code: str | None = Field(None, max_length=20)
    employment: str = Field("", max_length=12)
    health: str = Field("good", max_length=10)
    disability_grade: int = Field(0, ge=0, le=4)
    health_note: str = Field("", max_length=200)
    party_member: bool = False
    tags: list[str] = Field(default_factory=list, max_length=30)
    note: str = Field("", max_length=2000)


class PersonPatch(InSchema):
    """Fields left out stay as they are. `null` clears only what may be empty (household, ID,
    phone, tags); for the other fields it is refused with 422 rather than written as NULL."""

    name: str = Field(None, max_length=50)
    id_number: str | None = Field(None, max_length=30)
    phone: str | None = Field(None, max_length=30)
    ethnicity: str = Field(None, max_length=20)
    registered_address: str = Field(None, max_length=200)
    household_id: int | None = Field(None, ge=1, le=2**62)
    relation: str = Field(None, max_length=12)
    grid_code: str = Field(None, max_length=20)
    employment: str = Field(None, max_length=12)
    health: str = Field(None, max_length=10)
    disability_grade: int = Field(None, ge=0, le=4)
    health_note: str = Field(None, max_length=200)
    party_member: bool = None
    tags: list[str] | None = Field(None, max_length=30)
    note: str = Field(None, max_length=2000)


class RevealIn(InSchema):
    field: str = Field(pattern=r"^(id_number|phone)$")
    reason: str = Field(max_length=200)


class RevealOut(Schema):
    field: str
    value: str


class HouseholdOut(Schema):
    id: int
    number: str
    address: str
    grid_code: str
    grid_name: str
    building_code: str | None
    housing: str
    floor_area: Decimal | None
    residence: str
    head_name: str
    member_count: int
    tags: list[str]
    note: str


class HouseholdIn(InSchema):
    address: str = Field(max_length=200)
    grid_code: str = Field(max_length=20)
    building_code: str | None = Field(None, max_length=20)
    housing: str = Field("own", pattern=r"^(own|rent|public|other)$")
    floor_area: Decimal | None = Field(None, ge=0, le=10000, max_digits=8, decimal_places=2)
    residence: str = Field("permanent", pattern=r"^(permanent|floating|separated)$")
    tags: list[str] = Field(default_factory=list, max_length=30)
    note: str = Field("", max_length=2000)


class HouseholdPatch(InSchema):
    """Fields left out stay as they are; `null` is accepted only where a value may be empty."""

    address: str = Field(None, max_length=200)
    grid_code: str = Field(None, max_length=20)
    building_code: str | None = Field(None, max_length=20)
    housing: str = Field(None, pattern=r"^(own|rent|public|other)$")
    floor_area: Decimal | None = Field(None, ge=0, le=10000, max_digits=8, decimal_places=2)
    residence: str = Field(None, pattern=r"^(permanent|floating|separated)$")
    tags: list[str] | None = Field(None, max_length=30)
    note: str = Field(None, max_length=2000)


class NeedOut(Schema):
    id: int
    kind: str
    category: str
    description: str
    status: str


class NeedIn(InSchema):
    kind: str = Field(pattern=r"^(need|resource)$")
    category: str = Field(max_length=30)
    description: str = Field(max_length=300)


class NeedStatusIn(InSchema):
    status: str = Field(pattern=r"^(open|met)$")


class RecordOut(Schema):
    id: int
    kind: str
    name: str
    address: str
    grid_code: str
    grid_name: str
    contact: str
    phone_masked: str
    note: str


class RecordIn(InSchema):
    kind: str = Field(max_length=12)
    name: str = Field(max_length=100)
    address: str = Field("", max_length=200)
    grid_code: str = Field(max_length=20)
    contact: str = Field("", max_length=50)
    phone: str = Field("", max_length=30)
    note: str = Field("", max_length=2000)


class AuditOut(Schema):
    id: int
    at: datetime.datetime
    actor: str | None
    action: str
    model: str
    object_id: str
    object_repr: str
    changes: dict
    reason: str


class MeOut(Schema):
    username: str
    full_name: str
    roles: list[str]
    home_node: str | None
    can_reveal: bool
    can_edit: bool
    can_audit: bool
