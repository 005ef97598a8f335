"""From rows of cells to a plan: who is new, who changes and how, which households form, and
every reason a row cannot be imported, by sheet, row, column and value.

Validation is set-based, so its cost grows with the rows and not with the queries: one pass
over the rows in Python, then one (chunked) query each for existing people by ID number, their
tags, grids, tags and households. The plan holds everything apply.py needs; it writes nothing.
"""

import functools
from collections import Counter, defaultdict, namedtuple
from dataclasses import dataclass, field

from django.db import connection
from django.utils.translation import gettext_lazy as _

from minqing.accounts.access import has_role, user_scope, visible_nodes
from minqing.accounts.models import Role
from minqing.core.bulk import sqlite_variable_limit
from minqing.core.digits import plain_digits
from minqing.core.idnumber import IdNumberError, other_form, parse_id_number, upgraded
from minqing.core.masking import mask_id_number, mask_phone
from minqing.core.phone import ERR_PHONE, is_valid_phone, normalise_phone
from minqing.grids.models import Level, Node
from minqing.registry.identity import hashes_q, id_number_hashes
from minqing.registry.imports import cells, derive
from minqing.registry.imports.cells import CellError
from minqing.registry.imports.derive import Deriver
from minqing.registry.imports.headers import BY_KEY
from minqing.registry.imports.reader import (
    ERR_NO_ROWS,
    ImportFileError,
    Sheet,
    column_letter,
    is_footer,
    is_totals,
    read_sheets,
)
from minqing.registry.models import Household, Person, Relation, Tag, TagTarget
from minqing.registry.services import (
    ERR_BIRTH_MISMATCH,
    ERR_DUPLICATE_HIDDEN,
    ERR_GRID_LEVEL,
    ERR_GRID_SCOPE,
    ERR_SEX_MISMATCH,
    ERR_TWO_HEADS,
    household_number_variants,
    ledger_household_number,
)

ERR_REQUIRED_CELL = _("此项必填，不能为空。")
ERR_EXPORTED_FILE = _(
    "“{name}”中的身份证号都已打码，这是从系统导出的名单，不能用于导入。"
    "请下载导入模板，填写完整的身份证号和电话后上传。"
)
ERR_GRID_MISSING = _("所属网格必填（或在导入时选择默认网格）。")
ERR_GRID_AMBIGUOUS = _("有多个网格叫“{name}”，请改填网格编码。")
ERR_DUP_IN_FILE = _("同一身份证号在文件中出现了多次（{where}），同一人只能出现一次。")
ERR_TAG_UNKNOWN = _("系统中没有“{name}”这个人员类别：请在预览页选择新建或对应到已有类别。")
ERR_HOUSEHOLD_GRID = _("同一户的成员应在同一网格（本户在“{grid}”）。")
ERR_HOUSEHOLD_ADDRESS = _("新建家庭户须填写现住址（同一户至少一行）。")
ERR_HOUSEHOLD_HIDDEN = _("户号“{number}”已在其他网格登记，请联系社区核实。")
ERR_HOUSEHOLD_NUMBER_LONG = _("户号过长：连同社区编码最多 30 个字符（户号本身最多 17 个）。")
WARN_LEGACY = _("15位旧身份证号：已接受，并标记为旧证。")
WARN_NO_HEAD = _("本户没有户主：户主“{name}”不在本文件中，将建立没有户主的家庭户，请核对。")
WARN_NO_HEAD_NAMED = _("本户没有户主，将建立没有户主的家庭户，请核对。")
WARN_OTHER_ADDRESS = _(
    "同一户的现住址不一致：本户按“{address}”登记，这一行的地址不会保存，请核对。"
)
WARN_TWO_SPOUSES = _("本户已有配偶“{name}”，又一人与户主关系为配偶，请核对。")
NOTE_TAG_SPELLINGS = _("人员类别按常用写法对应到系统类别：{pairs}。")
NOTE_IGNORED = _("工作表“{sheet}”中这些列不是台账的列，已忽略：{names}。")
NOTE_REPEATED = _("工作表“{sheet}”中这些列与前面的列含义相同，已忽略：{names}。")
NOTE_SEVERAL = _("工作表“{sheet}”中有几列电话（{names}）：每人保存第一个填写了的号码。")
ROW_HERE = _("第 {row} 行")
SEX_WORDS = {"M": _("男"), "F": _("女")}
ROW_THERE = _("“{sheet}”第 {row} 行")
LIST_SEPARATOR = _("、")

TAG_NEW, TAG_SKIP = "new", "skip"
MAX_SHOWN = 500  # errors and changes listed on a page; the counts cover all of them


# How ledgers spell the care groups, beside the groups' own names and descriptions.
TAG_SPELLINGS = {
    "低保户": "低保", "低保家庭": "低保", "低保对象": "低保", "城乡低保": "低保",
    "特困人员": "特困", "特困供养": "特困", "五保户": "特困",
    "建档立卡贫困户": "贫困户", "建档立卡户": "贫困户", "贫困家庭": "贫困户",
    "残疾人": "残疾", "残疾人员": "残疾",
    "4050人员": "4050", "零就业": "零就业家庭", "零就业户": "零就业家庭",
    "失业人员": "下岗失业", "优抚": "优抚对象", "三无人员": "三无", "三无老人": "三无",
}  # fmt: skip
TAG_SUFFIXES = ("人员", "老人", "家庭", "对象", "户", "人")


def tag_of_spelling(name: str, tags: list):
    """The care group a ledger's word means (低保户 → 低保, 空巢老人 → 空巢), or None."""
    by_name = {t.name: t for t in tags}
    if name in TAG_SPELLINGS and TAG_SPELLINGS[name] in by_name:
        return by_name[TAG_SPELLINGS[name]]
    described = [t for t in tags if t.description and t.description == name]
    if len(described) == 1:
        return described[0]
    for suffix in TAG_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in by_name:
            return by_name[name[: -len(suffix)]]
    return None


@dataclass(slots=True)
class Issue:
    sheet: str
    row: int
    column: str  # the letter, "C"
    header: str  # the header as written in the file
    value: str
    reason: str


@dataclass
class Options:
    default_grid: Node | None = None
    # What to do with a category the system does not know: "new", "skip" or a Tag pk.
    tag_choices: dict[str, str] = field(default_factory=dict)


class PersonRow:
    """One row of the file, with the values it would store (slots: 100 000 of them)."""

    __slots__ = (
        "sheet",
        "row",
        "name",
        "id_number",
        "legacy",
        "birth_date",
        "sex",
        "ethnicity",
        "phone",
        "relation",
        "employment",
        "health",
        "disability_grade",
        "party",
        "note",
        "registered_address",
        "grid_text",
        "grid_id",
        "hh_number",
        "head_name",
        "address",
        "address_typed",
        "tag_names",
        "tags",
        "existing",
        "group",
        "bad",
        "changes",
        "new_tags",
        "taken_from",
    )

    def __init__(self, sheet: Sheet, row: int):
        self.sheet = sheet
        self.row = row
        self.name = self.id_number = self.phone = self.ethnicity = self.sex = ""
        self.relation = self.employment = self.health = self.note = ""
        self.registered_address = self.grid_text = self.hh_number = ""
        self.head_name = self.address = ""
        self.address_typed = None  # the address as the file wrote it, where `address` differs
        self.legacy = self.bad = False
        self.birth_date = self.party = self.grid_id = self.existing = self.group = None
        self.disability_grade = None
        self.tag_names = self.tags = ()
        self.changes = _NO_CHANGES
        self.new_tags = ()
        # key → (index, header) of the column a value came from, when not columns[key]
        self.taken_from = None


_NO_CHANGES: dict = {}  # shared by the rows that change nothing; never mutated


# What the import compares of a person already on file: values, not model instances (a
# re-import of 100 000 people must not build 100 000 Person objects).
EXISTING_FIELDS = (
    "pk",
    "id_number_hash",
    "name",
    "birth_date",
    "sex",
    "id_legacy",
    "ethnicity",
    "phone",
    "relation",
    "employment",
    "health",
    "disability_grade",
    "party_member",
    "note",
    "grid_id",
    "household_id",
    "created_by_id",
    "registered_address",
)
Existing = namedtuple("Existing", EXISTING_FIELDS)
# Values most people share (汉族, 子女, 健康 …) come back from the database as a new string per
# row; kept once each. The ID number's hash only finds the row, and is not kept after.
_SHARED_AT = tuple(
    EXISTING_FIELDS.index(f) for f in ("sex", "ethnicity", "relation", "employment", "health")
)
_HASH_AT = EXISTING_FIELDS.index("id_number_hash")
# The same for a household on file.
NUMBER_MAX = Household._meta.get_field("number").max_length
ExistingHousehold = namedtuple(
    "ExistingHousehold", ["pk", "number", "address", "grid_id", "head_name"]
)
HOUSEHOLD_FIELDS = ("pk", "number", "address", "grid_id", "head_name")


def household_label(h) -> str:
    """str(Household) for values (Household.__str__, without building the model)."""
    return str(Household(head_name=h.head_name, address=h.address))


class HouseholdPlan:
    """A household the file's rows form: an existing one to join or update, or a new one."""

    __slots__ = (
        "key",
        "number",
        "ledger_number",
        "grid_id",
        "address",
        "head_name",
        "head_hint",
        "existing",
        "rows",
        "tags",
        "changes",
        "new_tags",
        "obj",
    )

    def __init__(self, key):
        self.key = key
        self.number = ""  # as minqing keeps it: services.ledger_household_number
        self.ledger_number = ""  # the 户号 as the file gives it
        self.grid_id = None
        self.address = ""
        self.head_name = ""  # the head's name once written (Household.head_name)
        self.head_hint = ""  # the 户主姓名 the file gives, to find an existing household
        self.existing: ExistingHousehold | None = None
        self.rows: list[PersonRow] = []
        self.tags: set = set()
        self.changes: dict = {}
        self.new_tags: list = []
        self.obj: Household | None = None  # set by apply once it exists

    def label(self) -> str:
        """str(household) as it will read once written (see Household.__str__)."""
        address = self.address or (self.existing.address if self.existing else "")
        return f"{self.head_name or '（无户主）'}户 · {address}"


@dataclass
class Plan:
    file_name: str
    rows: int = 0
    people: list[PersonRow] = field(default_factory=list)
    households: list[HouseholdPlan] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    error_count: int = 0
    error_rows: set = field(default_factory=set)
    warnings: list[Issue] = field(default_factory=list)
    warning_count: int = 0
    notes: list[str] = field(default_factory=list)
    unknown_tags: Counter = field(default_factory=Counter)
    grids: dict[int, Node] = field(default_factory=dict)
    tags: dict[int, Tag] = field(default_factory=dict)
    new_tag_names: set[str] = field(default_factory=set)
    counts: dict = field(default_factory=dict)
    sheets: list[str] = field(default_factory=list)
    # Members of households that move grid but are not in the file: they move too.
    moved_households: list[HouseholdPlan] = field(default_factory=list)
    deriver: Deriver | None = None  # derived keys of new people, computed alongside

    def close(self) -> None:
        if self.deriver is not None:
            self.deriver.close()

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def has_changes(self) -> bool:
        """Whether confirming would write anything (a file imported before changes nothing)."""
        c = self.counts
        changes = ("new_people", "updated_people", "new_households", "updated_households")
        return any(c.get(k) for k in (*changes, "new_tags"))

    def updated(self) -> list[PersonRow]:
        return [p for p in self.people if p.existing is not None and p.changes]

    def updated_households(self) -> list["HouseholdPlan"]:
        """Households on file the import changes (address, grid, categories), as people's."""
        return [g for g in self.households if g.existing is not None and g.changes]


def can_create_tags(user) -> bool:
    """Categories are the administrators' to define (DOMAIN: configurable by the admin)."""
    if user is None:
        return True  # the command line, run on the server by its operators
    return has_role(user, {Role.ADMIN}) or user.has_perm("registry.add_tag")


def _mask_value(key: str, value: str) -> str:
    """A number shown in an error or a change, masked as on every page. An ID number of the
    wrong length is still most of a resident's: its middle is hidden too, its ends shown to
    find the typo by."""
    if key == "id_number" and cells.is_scientific(value):
        return cells.scientific_shown(value)
    if key == "id_number" and len(value) in (15, 18):
        return mask_id_number(value)
    if key == "id_number" and len(value) > 9:
        return value[:6] + "*" * (len(value) - 9) + value[-3:]
    if key == "phone" and is_valid_phone(value):
        return mask_phone(value)
    return value


def _same_place(a: str, b: str) -> bool:
    return a == b or cells.address_key(a) == cells.address_key(b)


def _first_filled(sheet: Sheet, row: list, got: dict) -> dict | None:
    """Put in `got` the first filled of several columns of one key (手机号 empty, 固定电话
    0571-86660000); where each value came from, if not from the key's first column."""
    taken = None
    n = len(row)
    for key, more in sheet.more.items():
        if cells.text(got.get(key)):
            continue
        for index, written in more:
            if index < n and cells.text(row[index]):
                got[key] = row[index]
                taken = taken or {}
                taken[key] = (index, written)
                break
    return taken


def _names_someone(id_cell) -> bool:
    """Whether a cell holds a valid ID number: a row starting 合计 with one is a person's."""
    try:
        parse_id_number(cells.id_number_text(id_cell))
    except (CellError, IdNumberError):
        return False
    return True


def chunk_size() -> int:
    """Values per IN (…) query: a few thousand; SQLite's real limit (32 766 since 3.32) rather
    than the 999 Django assumes for every version."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return min(5000, sqlite_variable_limit(connection.connection) - 10)
    return min(connection.features.max_query_params or 5000, 5000) - 10


def chunked(items: list, size: int | None = None):
    size = size or chunk_size()
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Validator:
    def __init__(self, acting_user, options: Options, file_name: str):
        self.user = acting_user
        self.options = options
        self.plan = Plan(file_name=file_name)
        self._rows: list[PersonRow] = []
        self._households_by_id: dict[int, ExistingHousehold] = {}
        self._existing_tags: defaultdict[int, set] = defaultdict(set)
        self._old_grids: dict[int, str] = {}
        # A household's address, number and head, and a grid's name, are the same text on
        # each of its rows; one string each, not one per cell (≈ 15 MB per 100 000 rows).
        self._texts: dict[str, str] = {}
        self.masked_ids = 0  # rows whose ID number is masked (an export, not a ledger)

    # ------------------------------------------------------------ issues

    def error(self, p: PersonRow, key: str | None, value, reason: str) -> None:
        p.bad = True
        plan = self.plan
        plan.error_count += 1
        plan.error_rows.add((p.sheet.name, p.row))
        if len(plan.errors) < MAX_SHOWN:
            plan.errors.append(self._issue(p, key, value, reason))

    def warn(self, p: PersonRow, key: str | None, value, reason: str) -> None:
        plan = self.plan
        plan.warning_count += 1
        if len(plan.warnings) < MAX_SHOWN:
            plan.warnings.append(self._issue(p, key, value, reason))

    @staticmethod
    def _issue(p: PersonRow, key: str | None, value, reason: str) -> Issue:
        sheet = p.sheet
        if p.taken_from is not None and key in p.taken_from:
            index, header = p.taken_from[key]
            letter = column_letter(sheet.col_offset + index)
        elif key is not None and key in sheet.columns:
            letter, header = sheet.letter(key), sheet.headers[key]
        else:
            letter, header = "", BY_KEY[key].header if key in BY_KEY else ""
        shown = _mask_value(key or "", cells.text(value))
        return Issue(sheet.name, p.row, letter, header, shown, reason)

    # ------------------------------------------------------------ pass 1: each row

    def read(self, sheets: list[Sheet]) -> None:
        plan = self.plan
        for sheet in sheets:
            plan.sheets.append(sheet.name)
            if sheet.ignored:
                plan.notes.append(
                    NOTE_IGNORED.format(sheet=sheet.name, names="、".join(sheet.ignored[:20]))
                )
            if sheet.repeated:
                plan.notes.append(
                    NOTE_REPEATED.format(sheet=sheet.name, names="、".join(sheet.repeated))
                )
            for key, more in sheet.more.items():
                names = [sheet.headers[key], *(written for _i, written in more)]
                plan.notes.append(NOTE_SEVERAL.format(sheet=sheet.name, names="、".join(names)))
            self._read_sheet(sheet)
            sheet.rows = iter(())  # let calamine free the parsed sheet

    def _read_sheet(self, sheet: Sheet) -> None:
        keys = list(sheet.columns)
        idxs = list(sheet.columns.values())
        text = cells.text
        deriver = self.plan.deriver
        derive = deriver is not None and deriver.active
        for number, row in sheet.rows:
            n = len(row)
            values = [row[i] if i < n else "" for i in idxs]
            filled = [v for v in values if v != "" and v is not None]
            if len(filled) <= 1:
                filled = [t for t in map(text, filled) if t]
                if not filled or is_footer(filled):
                    continue
            got = dict(zip(keys, values, strict=True))
            if text(got.get("name")) == "姓名":
                continue  # the header repeated on every printed page
            if is_totals(row) and not _names_someone(got.get("id_number")):
                continue  # 合计 | 2人 | 低保2人: a count of the rows above, not a person
            taken_from = _first_filled(sheet, row, got) if sheet.more else None
            self.plan.rows += 1
            p = self._parse(sheet, number, got, taken_from)
            self._rows.append(p)
            if derive and not p.bad:
                deriver.add(p, p.name, p.id_number, p.phone)

    def _parse(self, sheet: Sheet, number: int, got: dict, taken_from=None) -> PersonRow:
        p = PersonRow(sheet, number)
        p.taken_from = taken_from
        text = cells.text

        p.name = text(got.get("name"))
        if not p.name:
            self.error(p, "name", "", ERR_REQUIRED_CELL)
        elif len(p.name) > 50:
            self.error(p, "name", p.name, cells.ERR_TOO_LONG.format(n=50))

        parsed = None
        raw_id = got.get("id_number")
        try:
            id_text = cells.id_number_text(raw_id)
        except CellError as exc:
            self.masked_ids += exc.args[0] is cells.ERR_ID_MASKED
            self.error(p, "id_number", raw_id, str(exc))
        else:
            if not id_text:
                self.error(p, "id_number", "", ERR_REQUIRED_CELL)
            else:
                try:
                    parsed = parse_id_number(id_text)
                except IdNumberError as exc:
                    self.error(p, "id_number", id_text, str(exc))
                else:
                    p.id_number, p.legacy = parsed.number, parsed.legacy
                    p.birth_date, p.sex = parsed.birth_date, parsed.sex
                    if parsed.legacy:
                        self.warn(p, "id_number", id_text, WARN_LEGACY)

        if "birth_date" in got:
            try:
                given = cells.date(got["birth_date"])
            except CellError as exc:
                self.error(p, "birth_date", got["birth_date"], str(exc))
            else:
                if isinstance(given, cells.YearMonth):
                    agrees = parsed is None or given.matches(parsed.birth_date)
                else:
                    agrees = not given or parsed is None or given == parsed.birth_date
                if not agrees:
                    self.error(
                        p,
                        "birth_date",
                        got["birth_date"],
                        ERR_BIRTH_MISMATCH.format(expected=parsed.birth_date.isoformat()),
                    )
        if "sex" in got:
            try:
                given_sex = cells.sex(text(got["sex"]))
            except CellError as exc:
                self.error(p, "sex", got["sex"], str(exc))
            else:
                if given_sex and parsed and given_sex != parsed.sex:
                    self.error(
                        p,
                        "sex",
                        got["sex"],
                        ERR_SEX_MISMATCH.format(expected=SEX_WORDS[parsed.sex]),
                    )

        if "phone" in got:
            phone = normalise_phone(text(got["phone"]))
            if phone and not is_valid_phone(phone):
                self.error(p, "phone", got["phone"], ERR_PHONE)  # as typed, not as read
            p.phone = phone

        for key, parse in (
            ("ethnicity", cells.ethnicity),
            ("relation", cells.relation),
            ("employment", cells.employment),
            ("health", cells.health),
            ("disability_grade", cells.disability_grade),
            ("party", cells.party),
        ):
            if key in got:
                try:
                    setattr(p, key, parse(text(got[key])))
                except CellError as exc:
                    self.error(p, key, got[key], str(exc))

        keep = self._texts.setdefault
        for key, limit in (
            ("note", 2000),
            ("registered_address", 200),
            ("address", 200),
            ("head_name", 50),
        ):
            if key in got:
                try:
                    value = typed = text(got[key])
                    value = cells.limited(
                        cells.address(value) if key == "address" else value, limit
                    )
                    if key == "address" and value != typed:
                        p.address_typed = typed
                except CellError as exc:
                    self.error(p, key, got[key], str(exc))
                else:
                    setattr(p, key, keep(value, value) if key != "note" else value)
        if "household_number" in got:
            try:
                number = cells.limited(text(got["household_number"]), 30)
            except CellError as exc:
                self.error(p, "household_number", got["household_number"], str(exc))
            else:
                p.hh_number = keep(number, number)

        grid = text(got.get("grid"))
        p.grid_text = keep(grid, grid)
        if "tags" in got:
            names = dict.fromkeys(cells.tag_names(text(got["tags"])))
            p.tag_names = tuple(keep(name, name) for name in names)
        return p

    # ------------------------------------------------------------ pass 2: across rows

    def resolve(self) -> Plan:
        self._duplicates()
        self._grids()
        self._tags()
        self._existing_people()
        self._households()
        self._changes()
        plan = self.plan
        plan.people = [p for p in self._rows if not p.bad]
        plan.households = [g for g in plan.households if any(not p.bad for p in g.rows)]
        self._count()
        return plan

    def _duplicates(self) -> None:
        seen: dict[str, list[PersonRow]] = defaultdict(list)
        for p in self._rows:
            if p.id_number:
                seen[upgraded(p.id_number)].append(p)  # 15 digits and 18: one person
        for rows in seen.values():
            if len(rows) < 2:
                continue
            for p in rows:
                where = str(LIST_SEPARATOR).join(
                    (
                        ROW_HERE.format(row=o.row)
                        if o.sheet is p.sheet
                        else ROW_THERE.format(sheet=o.sheet.name, row=o.row)
                    )
                    for o in rows
                    if o is not p
                )
                self.error(p, "id_number", p.id_number, ERR_DUP_IN_FILE.format(where=where))

    def _grids(self) -> None:
        default = self.options.default_grid
        texts = {p.grid_text for p in self._rows if p.grid_text}
        codes = {t for t in texts if plain_digits(t)}
        names = texts - codes
        found: dict[str, Node | str] = {}  # a Node, or why the text names none
        if texts:
            nodes = list(Node.objects.filter(code__in=codes) | Node.objects.filter(name__in=names))
            visible = self._visible_grid_ids()
            by_name = defaultdict(list)
            for node in nodes:
                if node.code in codes:
                    found[node.code] = node
                if node.name in names:
                    by_name[node.name].append(node)
            for name, candidates in by_name.items():
                grids = [n for n in candidates if n.level == Level.GRID] or candidates
                if len(grids) > 1:
                    mine = [n for n in grids if visible is None or n.pk in visible]
                    grids = mine if len(mine) == 1 else grids
                found[name] = grids[0] if len(grids) == 1 else ERR_GRID_AMBIGUOUS.format(name=name)
            for key, node in list(found.items()):
                if not isinstance(node, Node):
                    continue
                if node.level != Level.GRID:
                    found[key] = ERR_GRID_LEVEL
                elif visible is not None and node.pk not in visible:
                    found[key] = ERR_GRID_SCOPE
        for p in self._rows:
            if not p.grid_text:
                if default is None:
                    self.error(p, "grid", "", ERR_GRID_MISSING)
                else:
                    p.grid_id = default.pk
                    self.plan.grids[default.pk] = default
                continue
            node = found.get(p.grid_text, ERR_GRID_SCOPE)
            if not isinstance(node, Node):  # an error message (a lazy translation, not a str)
                self.error(p, "grid", p.grid_text, node)
            else:
                p.grid_id = node.pk
                self.plan.grids[node.pk] = node

    def _visible_grid_ids(self) -> set[int] | None:
        """The grids the importer may write to; None means every grid."""
        if not hasattr(self, "_visible"):
            if self.user is None or user_scope(self.user).everything:
                self._visible = None
            else:
                self._visible = set(
                    visible_nodes(self.user).filter(level=Level.GRID).values_list("pk", flat=True)
                )
        return self._visible

    def _tags(self) -> None:
        names = {t for p in self._rows for t in p.tag_names}
        if not names:
            return
        known = {t.name: t for t in Tag.objects.filter(name__in=names)}
        # The usual ledger spellings (低保户, 空巢老人, 4050人员 …) are the same groups.
        unknown = [n for n in names if n not in known]
        every = list(Tag.objects.all()) if unknown else []
        spelt = {n: tag_of_spelling(n, every) for n in unknown}
        found = {n: t for n, t in spelt.items() if t is not None}
        if found:
            known.update(found)
            self.plan.notes.append(
                str(NOTE_TAG_SPELLINGS).format(
                    pairs=str(LIST_SEPARATOR).join(
                        f"{n}→{t.name}" for n, t in sorted(found.items())
                    )
                )
            )
        choices = self.options.tag_choices
        mapped: dict[str, int | str | None] = {}
        allowed_new = can_create_tags(self.user)
        extra_ids = {
            int(v)
            for n, v in choices.items()
            if n in names and n not in known and plain_digits(v, max_len=18)
        }
        targets = {t.pk: t for t in Tag.objects.filter(pk__in=extra_ids)} if extra_ids else {}
        for name in names:
            if name in known:
                mapped[name] = known[name].pk
                self.plan.tags[known[name].pk] = known[name]
                continue
            choice = choices.get(name) or choices.get("*", "")  # "*": every unknown one
            if choice == TAG_SKIP:
                mapped[name] = None
            elif choice == TAG_NEW and allowed_new:
                mapped[name] = name
                self.plan.new_tag_names.add(name)
            elif plain_digits(choice, max_len=18) and int(choice) in targets:
                tag = targets[int(choice)]
                mapped[name] = tag.pk
                self.plan.tags[tag.pk] = tag
            # otherwise: unknown, an error on every row that names it
        for p in self._rows:
            refs = []
            for name in p.tag_names:
                if name not in mapped:
                    self.plan.unknown_tags[name] += 1
                    self.error(p, "tags", name, ERR_TAG_UNKNOWN.format(name=name))
                elif mapped[name] is not None:
                    refs.append(mapped[name])
            p.tags = tuple(dict.fromkeys(refs))

    def _existing_people(self) -> None:
        # Under every key the person may be filed (a 15-digit number and its 18-digit form).
        by_hash = {h: p for p in self._rows if p.id_number for h in id_number_hashes(p.id_number)}
        if not by_hash:
            return
        found: dict[int, Existing] = {}
        shared: dict = {}
        for chunk in chunked(list(by_hash)):  # the keys, hashed once
            for values in Person.objects.filter(hashes_q(chunk)).values_list(*EXISTING_FIELDS):
                row = by_hash.get(values[_HASH_AT])
                if row is None:
                    continue
                if row.existing is not None and not row.existing.id_legacy:
                    continue  # two records, old number and new (before 0011): the new one's
                values = list(values)
                values[_HASH_AT] = None
                for i in _SHARED_AT:
                    values[i] = shared.setdefault(values[i], values[i])
                row.existing = person = Existing._make(values)
                found[person.pk] = person
        if not found:
            return
        visible = self._visible_grid_ids()
        own = user_scope(self.user).own_user_id if self.user is not None else None
        through = Person.tags.through
        for chunk in chunked(list(found)):
            for pid, tid in through.objects.filter(person__any_of=chunk).values_list(
                "person_id", "tag_id"
            ):
                self._existing_tags[pid].add(tid)
        for p in self._rows:
            person = p.existing
            if person is None:
                continue
            if visible is not None and person.grid_id not in visible:
                if not (own and person.created_by_id == own):
                    self.error(p, "id_number", p.id_number, ERR_DUPLICATE_HIDDEN)
                    p.existing = None
        # Grids people would leave, for the change lists (one query).
        missing = {x.grid_id for x in found.values()} - set(self.plan.grids)
        self._old_grids = {n.pk: n.name for n in Node.objects.filter(pk__in=missing)}
        self._old_grids.update({pk: n.name for pk, n in self.plan.grids.items()})

    # ------------------------------------------------------------ households

    def _households(self) -> None:
        """Group rows into households: by 户号, else by 户主姓名 + 现住址, else by 现住址."""
        groups: dict[tuple, HouseholdPlan] = {}
        last_address: dict[tuple, str] = {}
        for p in self._rows:
            if p.grid_id is None:
                continue
            if p.hh_number:
                # A 户号 is numbered within its community: the same one elsewhere in the
                # county (or elsewhere in this file) is another household.
                code = self.plan.grids[p.grid_id].code
                key = ("number", ledger_household_number(code, p.hh_number))
            elif p.head_name:
                # Ledgers often write the address on the head's row only: members inherit it.
                who = (p.grid_id, p.head_name)
                if p.address:
                    last_address[who] = p.address
                place = cells.address_key(p.address or last_address.get(who, ""))
                key = ("head", p.grid_id, p.head_name, place)
            elif p.address:
                key = ("address", p.grid_id, cells.address_key(p.address))
            else:
                continue
            group = groups.get(key)
            if group is None:
                group = groups[key] = HouseholdPlan(key)
                if p.hh_number:
                    group.number, group.ledger_number = key[1], p.hh_number
                    if len(group.number) > NUMBER_MAX:
                        self.error(p, "household_number", p.hh_number, ERR_HOUSEHOLD_NUMBER_LONG)
            group.rows.append(p)
            p.group = group
        if not groups:
            return
        plan = self.plan
        for g in groups.values():
            self._summarise(g)
        self._match_households(list(groups.values()))
        # Rows that found the same existing household (a member written at another address,
        # say) are one household: the later groups join the first.
        merged: dict[int, HouseholdPlan] = {}
        households = []
        for g in groups.values():
            first = merged.get(g.existing.pk) if g.existing is not None else None
            if first is None:
                if g.existing is not None:
                    merged[g.existing.pk] = g
                households.append(g)
                continue
            first.rows.extend(g.rows)
            for p in g.rows:
                p.group = first
            self._summarise(first)
        plan.households = households
        for g in households:
            for p in g.rows:
                if p.grid_id != g.grid_id:
                    self.error(
                        p,
                        "grid",
                        p.grid_text,
                        ERR_HOUSEHOLD_GRID.format(grid=plan.grids[g.grid_id].name),
                    )
                elif p.address and g.address and not _same_place(p.address, g.address):
                    self.warn(p, "address", p.address, WARN_OTHER_ADDRESS.format(address=g.address))
            if g.existing is None and not g.address:
                self.error(g.rows[0], "address", "", ERR_HOUSEHOLD_ADDRESS)
        self._relations_and_heads(households)

    @staticmethod
    def _summarise(g: "HouseholdPlan") -> None:
        """The household's grid, address and head as its rows give them (the head's row first)."""
        head = next((p for p in g.rows if p.relation == Relation.HEAD), None)
        if head is None and g.rows[0].head_name:
            head = next((p for p in g.rows if p.name == g.rows[0].head_name), None)
        first = head or g.rows[0]
        g.grid_id = first.grid_id
        g.head_hint = first.head_name or (head.name if head else "")
        g.address = (head.address if head else "") or next(
            (p.address for p in g.rows if p.address), ""
        )
        if g.key[0] == "head" and not g.address:
            g.address = g.key[3]

    def _match_households(self, groups: list[HouseholdPlan]) -> None:
        visible = self._visible_grid_ids()
        numbers = [g.number for g in groups if g.number]
        by_number = {}
        for chunk in chunked(numbers):
            for values in Household.objects.filter(number__any_of=chunk).values_list(
                *HOUSEHOLD_FIELDS
            ):
                h = ExistingHousehold._make(values)
                by_number[h.number] = h
        # A numeric 户号 an earlier import kept without its zeros ("<c>-5" for "<c>-005").
        variants = {
            v: g.number
            for g in groups
            if g.number and g.number not in by_number
            for v in household_number_variants(g.number)
        }
        for chunk in chunked(sorted(variants)):
            for values in Household.objects.filter(number__any_of=chunk).values_list(
                *HOUSEHOLD_FIELDS
            ):
                h = ExistingHousehold._make(values)
                by_number.setdefault(variants[h.number], h)
        # Households an earlier import filed under the bare 户号, before numbers were kept
        # under the community's code: found again in the same community only.
        bare = {g.ledger_number for g in groups if g.number and g.number not in by_number}
        by_bare = {}
        for chunk in chunked(sorted(bare)):
            rows = Household.objects.filter(number__any_of=chunk).values_list(
                *HOUSEHOLD_FIELDS, "grid__code"
            )
            for *values, grid_code in rows:
                h = ExistingHousehold._make(values)
                by_bare[ledger_household_number(grid_code, h.number)] = h
        member_hh_ids = {
            p.existing.household_id
            for g in groups
            for p in g.rows
            if p.existing is not None and p.existing.household_id
        }
        by_id = {}
        for chunk in chunked(list(member_hh_ids)):
            for values in Household.objects.filter(pk__any_of=chunk).values_list(*HOUSEHOLD_FIELDS):
                h = ExistingHousehold._make(values)
                by_id[h.pk] = h
        self._households_by_id = by_id
        # Households at the same address in the same grid, for rows whose people are all new.
        # An address on file may be stored as a form typed it (１２号, a stray space): it is
        # looked for as the file wrote it too, and compared by the grouping's key (review: a
        # household on file at 幸福路１２号３幢 was not found and made twice).
        looked_for = [g for g in groups if g.address and not g.number]
        addresses = {g.address for g in looked_for}
        addresses |= {p.address_typed for g in looked_for for p in g.rows if p.address_typed}
        by_place = defaultdict(list)
        grid_ids = list({g.grid_id for g in groups})
        for chunk in chunked(sorted(addresses)):
            for values in Household.objects.filter(
                grid_id__in=grid_ids, address__any_of=chunk
            ).values_list(*HOUSEHOLD_FIELDS):
                h = ExistingHousehold._make(values)
                place = (h.grid_id, cells.address_key(cells.address(h.address)))
                if h not in by_place[place]:
                    by_place[place].append(h)
        for g in groups:
            if g.number:
                h = by_number.get(g.number) or by_bare.get(g.number)
                if h is not None and visible is not None and h.grid_id not in visible:
                    for p in g.rows:
                        self.error(
                            p,
                            "household_number",
                            g.number,
                            ERR_HOUSEHOLD_HIDDEN.format(number=g.ledger_number),
                        )
                    continue
                g.existing = h
                continue
            # An existing member's household: the head's first, then anyone's.
            members = sorted(
                (p for p in g.rows if p.existing is not None and p.existing.household_id),
                key=lambda p: p.existing.relation != Relation.HEAD,
            )
            if members:
                g.existing = by_id.get(members[0].existing.household_id)
                continue
            candidates = by_place.get((g.grid_id, cells.address_key(g.address)), [])
            if g.head_hint:
                candidates = [h for h in candidates if h.head_name == g.head_hint]
            if len(candidates) == 1:
                g.existing = candidates[0]

    def _relations_and_heads(self, groups: list[HouseholdPlan]) -> None:
        existing_ids = [g.existing.pk for g in groups if g.existing is not None]
        heads = defaultdict(list)  # household pk → [(person pk, name)]
        for chunk in chunked(existing_ids):
            for pid, hid, name in Person.objects.filter(
                household__any_of=chunk, relation=Relation.HEAD
            ).values_list("pk", "household_id", "name"):
                heads[hid].append((pid, name))
        for g in groups:
            in_file = {p.existing.pk for p in g.rows if p.existing is not None}
            for p in g.rows:
                if not p.relation:
                    if p.existing is not None and p.existing.household_id == (
                        g.existing.pk if g.existing else None
                    ):
                        p.relation = p.existing.relation
                    elif p.head_name and p.name == p.head_name:
                        p.relation = Relation.HEAD
            # Rows already refused (a duplicate ID, say) do not count as a second head.
            file_heads = [p for p in g.rows if p.relation == Relation.HEAD and not p.bad]
            kept = [
                name
                for pid, name in heads.get(g.existing.pk if g.existing else 0, [])
                if pid not in in_file
            ]
            if len(file_heads) + len(kept) > 1:
                for p in file_heads:
                    other = kept[0] if kept else next(o.name for o in file_heads if o is not p)
                    self.error(p, "relation", "户主", ERR_TWO_HEADS.format(name=other))
            g.head_name = file_heads[0].name if file_heads else (kept[0] if kept else "")
            # Worth a look, not a refusal: a ledger may list a household without its head (who
            # lives elsewhere), and a second spouse is as often a typo as anything else.
            if not g.head_name and g.existing is None and not any(p.bad for p in g.rows):
                named = g.head_hint
                self.warn(g.rows[0], "head_name", named,
                          WARN_NO_HEAD.format(name=named) if named else WARN_NO_HEAD_NAMED)  # fmt: skip
            spouses = [p for p in g.rows if p.relation == Relation.SPOUSE and not p.bad]
            if len(spouses) > 1:
                for p in spouses[1:]:
                    self.warn(p, "relation", "配偶", WARN_TWO_SPOUSES.format(name=spouses[0].name))

    # ------------------------------------------------------------ what changes

    def _changes(self) -> None:
        plan = self.plan
        grids = plan.grids
        tag_names = {pk: t.name for pk, t in plan.tags.items()}
        household_target = {pk for pk, t in plan.tags.items() if t.target == TagTarget.HOUSEHOLD}
        existing_hh = [g.existing.pk for g in plan.households if g.existing is not None]
        hh_tags = defaultdict(set)
        through = Household.tags.through
        for chunk in chunked(existing_hh):
            for hid, tid in through.objects.filter(household__any_of=chunk).values_list(
                "household_id", "tag_id"
            ):
                hh_tags[hid].add(tid)

        # Tags a record already has but the file does not name are listed by name too.
        held = set().union(*hh_tags.values(), *self._existing_tags.values()) - set(tag_names)
        for chunk in chunked(sorted(held)):
            tag_names.update(Tag.objects.filter(pk__in=chunk).values_list("pk", "name"))

        def tag_label(ref) -> str:
            return str(tag_names.get(ref, ref)) if isinstance(ref, int) else ref

        moved = {
            g.existing.grid_id
            for g in plan.households
            if g.existing is not None and g.grid_id is not None and g.existing.grid_id != g.grid_id
        }
        old_grids = {n.pk: n.name for n in Node.objects.filter(pk__in=moved)} if moved else {}
        for g in plan.households:
            if g.existing is not None and g.grid_id is not None:
                h = g.existing
                if g.address and g.address != h.address:
                    g.changes["address"] = [h.address, g.address]
                if g.grid_id != h.grid_id:
                    g.changes["grid"] = [old_grids[h.grid_id], grids[g.grid_id].name]
                    plan.moved_households.append(g)
            # Household categories (低保, 贫困户 …) named on any member's row go to the household.
            wanted = {ref for p in g.rows for ref in p.tags if ref in household_target}
            have = hh_tags.get(g.existing.pk, set()) if g.existing is not None else set()
            g.new_tags = sorted(wanted - have, key=str)
            if g.new_tags and g.existing is not None:
                g.changes["tags"] = [
                    sorted(tag_label(t) for t in have),
                    sorted(tag_label(t) for t in have | set(g.new_tags)),
                ]

        for p in self._rows:
            if p.bad:
                continue
            g = p.group
            if g is not None:
                p.grid_id = g.grid_id
            own_tags = [t for t in p.tags if not (t in household_target and g is not None)]
            person = p.existing
            if person is None:
                p.new_tags = own_tags
                continue
            have = self._existing_tags.get(person.pk, set())
            p.new_tags = [t for t in own_tags if t not in have]
            changes = {}

            def change(field, old, new, *, masked=None, p=p, changes=changes):
                if old != new:
                    changes[field] = [
                        masked(old) if masked else old,
                        masked(new) if masked else new,
                    ]

            change("name", person.name, p.name)
            change(
                "birth_date",
                person.birth_date,
                p.birth_date,
                masked=functools.partial(Person.MASKED["birth_date"], record=person),
            )
            change("sex", person.sex, p.sex)
            if person.id_legacy and not p.legacy:
                # The file has the 18-digit number of a person filed under the old 15: kept.
                # (Given the old number of a person filed under 18 digits, the 18 stay.)
                changes["id_number"] = [
                    mask_id_number(other_form(p.id_number) or ""),
                    mask_id_number(p.id_number),
                ]
            if p.ethnicity:
                change("ethnicity", person.ethnicity, p.ethnicity)
            if p.phone:
                change("phone", person.phone, p.phone, masked=mask_phone)
            for f in ("relation", "employment", "health", "note"):
                value = getattr(p, f)
                if value:
                    change(f, getattr(person, f), value)
            if p.party is not None:
                change("party_member", person.party_member, p.party)
            if p.disability_grade is not None:
                change("disability_grade", person.disability_grade, p.disability_grade)
            if p.registered_address:
                change("registered_address", person.registered_address, p.registered_address)
            if p.grid_id != person.grid_id:
                changes["grid"] = [self._old_grids[person.grid_id], grids[p.grid_id].name]
            if g is not None:
                if g.existing is None or g.existing.pk != person.household_id:
                    old_hh = self._households_by_id.get(person.household_id)
                    changes["household"] = [household_label(old_hh) if old_hh else None, g.label()]
            if p.new_tags:
                changes["tags"] = [
                    sorted(tag_label(t) for t in have),
                    sorted(tag_label(t) for t in set(have) | set(p.new_tags)),
                ]
            # Stored as plain data, like core.audit.snapshot does.
            p.changes = {
                k: [_plain(v[0]), _plain(v[1])] if k not in ("tags",) else v
                for k, v in changes.items()
            }

    def _count(self) -> None:
        plan = self.plan
        people = plan.people
        new = sum(1 for p in people if p.existing is None)
        updated = sum(1 for p in people if p.existing is not None and p.changes)
        plan.counts = {
            "rows": plan.rows,
            "new_people": new,
            "updated_people": updated,
            "unchanged_people": len(people) - new - updated,
            "new_households": sum(1 for g in plan.households if g.existing is None),
            "updated_households": sum(
                1 for g in plan.households if g.existing is not None and g.changes
            ),
            "errors": plan.error_count,
            "error_rows": len(plan.error_rows),
            "warnings": plan.warning_count,
            "new_tags": len(plan.new_tag_names),
        }


def _plain(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _in_file_order(plan: Plan) -> None:
    """Errors and warnings by sheet, row and column, as the user reads the file: the checks
    that need the whole file (unknown grids, an ID twice …) find theirs after the row checks."""
    sheet_order = {name: i for i, name in enumerate(plan.sheets)}

    def where(issue: Issue):
        return sheet_order.get(issue.sheet, 0), issue.row, len(issue.column), issue.column

    plan.errors.sort(key=where)
    plan.warnings.sort(key=where)


def plan_import(
    *, acting_user, data: bytes, file_name: str, options: Options, derive_keys: bool = False
) -> Plan:
    """Read, validate and plan; writes nothing. Raises ImportFileError for unusable files.

    derive_keys: start computing new people's derived keys (see derive.py) while reading, for
    a plan that is about to be applied; the caller must call plan.close() in the end.
    """
    # Started before parsing (from the file's size), so the workers are ready when rows come.
    deriver = Deriver(len(data) // derive.BYTES_PER_ROW) if derive_keys else None
    try:
        sheets, notes = read_sheets(data, file_name)
    except BaseException:
        if deriver is not None:
            deriver.close()
        raise
    validator = Validator(acting_user, options, file_name)
    plan = validator.plan
    plan.deriver = deriver
    if deriver is not None and sum(s.size_hint for s in sheets) < derive.PARALLEL_MIN_ROWS:
        deriver.close()  # fewer rows than the size suggested: not worth it
    try:
        plan.notes.extend(notes)
        validator.read(sheets)
        if plan.rows == 0:
            names = "、".join(s.name for s in sheets)
            raise ImportFileError(ERR_NO_ROWS.format(name=file_name, sheets=names))
        if validator.masked_ids == plan.rows:
            # Every number masked: a list exported from minqing, not a ledger (one sentence,
            # not three errors on every row).
            raise ImportFileError(ERR_EXPORTED_FILE.format(name=file_name))
        plan = validator.resolve()
        _in_file_order(plan)
        return plan
    except BaseException:
        plan.close()
        raise


__all__ = ["Issue", "Options", "Plan", "can_create_tags", "column_letter", "plan_import"]
