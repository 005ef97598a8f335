"""Nothing the server does may answer 500 to any input.

Every operation of the JSON API is fuzzed from the app's own OpenAPI schema: path parameters
(ids that do not fit 64 bits, negative, non-numeric, NUL, unicode), query parameters of the wrong
type or size, and request bodies that are valid, half-valid, of the wrong type, missing fields,
carrying extra ones, huge numbers, deep nesting, lone surrogates, broken UTF-8 or no JSON at all.
Each request goes through Django's test client with a grid worker's Bearer token, the worker's
session (reads), a wrong token, or no credentials, and must answer below 500.

The list pages' query strings and the place-tree pages get the same treatment, more lightly.

Each request runs in a savepoint that is rolled back: the database is the same for every example
(as in production, where each request is its own transaction), and a failed statement cannot
poison the next request. Hypothesis runs derandomized, so every run sends the same inputs.
"""

import datetime
import json
import traceback
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from conftest import valid_id
from minqing.accounts.models import ApiToken, ServiceTeam, TeamMember
from minqing.api.api import api
from minqing.cases import services as case_services
from minqing.cases.models import Notification, Unit
from minqing.registry import services
from minqing.registry.models import Organisation, Place, Tag

SCHEMA = api.get_openapi_schema()
COMPONENTS = SCHEMA.get("components", {}).get("schemas", {})
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
OPERATIONS = [
    (method.upper(), path, spec)
    for path, methods in SCHEMA["paths"].items()
    for method, spec in methods.items()
]

# Examples per operation (~36 operations), on top of the fixed corpus: keeps this file under
# a minute on PostgreSQL, about half that on SQLite.
MAX_EXAMPLES = 25
FUZZ_SETTINGS = hsettings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)

# ------------------------------------------------------------------ values that break things

BIG_INTS = [0, -1, 2**31, 2**31 - 1, 2**53 + 1, 2**62 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1]
HUGE_INTS = [10**30, -(10**30), 10**400]
EDGE_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",  # a lone surrogate: decodes from JSON, cannot be encoded for the database
    "\udfff\ud800",
    "\u202e\u0000\ufeff",
    "\x7f\x1b[31m",
    "x" * 10_000,
    "中" * 3_000,
    "😀" * 100,
    "０１２３",
    "²³",
    "١٢٣",
    "9" * 40,
    "9" * 5_000,  # int() refuses more than 4300 digits
    "-1",
    "1e400",
    "NaN",
    "null",
    "true",
    "[]",
    "{}",
    "%00",
    "%s%n",
    "../../etc/passwd",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\\",
    "330188001001001\x00",
    "330188001001001\n",
]
EDGE_FLOATS = [1.5, -0.0, 1e308, -1e308, 5e-324, float("inf"), float("-inf"), float("nan")]


def _nested(depth: int, leaf=1):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def _nested_obj(depth: int):
    value = {}
    for _ in range(depth):
        value = {"a": value}
    return value


EDGE_JSON = [
    None,
    True,
    False,
    *BIG_INTS,
    *HUGE_INTS,
    *EDGE_FLOATS,
    *EDGE_STRINGS,
    [],
    {},
    [None],
    ["\x00"],
    [1, "a", None, {}],
    {"a": 1},
    {"": None, "\x00": "\x00"},
    _nested(50),
    _nested_obj(50),
]


# One of each kind of wrong, for the one-field-at-a-time corpus.
EDGE_JSON_SHORT = [
    None,
    True,
    2**63,
    10**400,
    1.5,
    float("nan"),
    "",
    "\x00",
    "\ud800",
    "x" * 10_000,
    "²³",
    [],
    {},
    ["\x00"],
    _nested(50),
]


# For query strings and path segments, one value at a time (already percent-encoded).
QUERY_EDGES = [
    "",
    "-1",
    "0",
    "1.5",
    "9223372036854775808",
    "9" * 40,
    "9" * 5_000,
    "1e400",
    "NaN",
    "%00",
    "a%00b",
    "%C2%B2%C2%B3",  # superscript digits: str.isdigit() says yes, int() says no
    "%D9%A3",  # an Arabic-Indic three
    "x" * 10_000,
    "%E4%B8%AD" * 1_000,
    "330188001001001%0A",
    "%",
    "%zz",
    "%FF",
    "%ED%A0%80",  # a UTF-8-encoded lone surrogate
    "%2F",
    "..",
    "%27%20OR%201=1%20--",
]


def edge_json():
    return st.sampled_from(EDGE_JSON)


def edge_string():
    return st.sampled_from(EDGE_STRINGS)


# Raw bodies that are not the JSON of any value.
RAW_BODIES = [
    b"",
    b"{",
    b"}",
    b"[" * 100_000,  # recursion depth
    b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
    b"9" * 5_000,  # beyond Python's int-string digit limit
    b'{"name": ' + b"9" * 5_000 + b"}",
    b"1e99999",
    b"NaN",
    b"-Infinity",
    b'"\\ud800"',
    b'{"name": "\\u0000"}',
    b"\xff\xfe\x00",
    b'{"name": "\xff"}',
    b"\x00" * 100,
    b"\xef\xbb\xbf{}",  # a byte-order mark
    "{}".encode("utf-16"),
    b"name=x&grid_code=y",
    b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n',
    b"a" * (3 * 1024 * 1024),  # beyond DATA_UPLOAD_MAX_MEMORY_SIZE
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=utf-16",
    "application/json; charset=does-not-exist",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",  # no boundary
    "multipart/form-data; boundary=x",
    "",
]


# ------------------------------------------------------------------ the world being fuzzed


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The personas' Argon2 hashes cost more than the fuzzing; this file needs no real ones."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    token: str
    ints: dict[str, list[int]]  # path/body parameter name -> existing ids
    hints: dict[str, list] = field(default_factory=dict)  # property name -> good values


@pytest.fixture
def world(grid_a_worker, zhang_san, household_a, tree):
    grid = tree["grid_a"]
    place = services.simple_record_save(
        acting_user=grid_a_worker,
        model=Place,
        data={"kind": "shop", "name": "便民超市", "address": "人民路2号", "grid": grid},
    )
    org = services.simple_record_save(
        acting_user=grid_a_worker,
        model=Organisation,
        data={"kind": "social", "name": "夕阳红志愿队", "grid": grid},
    )
    empty = services.household_create(
        acting_user=grid_a_worker, data={"address": "人民路3号", "grid": grid}
    )
    team = ServiceTeam.objects.create(node=grid, name="东门第1网格服务团队")
    TeamMember.objects.create(team=team, name="李四", kind="staff", mobile="13900000000")
    # A case, a department and a notification, so the case endpoints get past their 404s.
    Unit.objects.create(code="water", name="供水公司", node=tree["county"])
    case = case_services.case_accept(
        acting_user=grid_a_worker,
        data={"category": "0601", "description": "路灯不亮", "grid": grid},
    )
    note = Notification.objects.create(
        user=grid_a_worker, case=case, kind="assigned", message="新任务"
    )
    _, raw = ApiToken.issue(user=grid_a_worker, name="fuzz")
    codes = [grid.code, grid.code, grid.code] + [n.code for n in tree.values()]
    tags = list(Tag.objects.values_list("name", flat=True)[:5])
    ids = [zhang_san.pk, household_a.pk, empty.pk, place.pk, org.pk]
    return World(
        token=raw,
        ints={
            "pk": [*ids, note.pk],
            "household_id": [household_a.pk, empty.pk],
            "target_user": [grid_a_worker.pk],
            "version": [case.version],
        },
        hints={
            "code": codes,
            "grid_code": codes,
            "building_code": codes,
            "node": codes,
            "parent": codes,
            "tag": tags,
            "tags": [tags, tags[:1], [*tags, "不存在的类别"]],
            "name": ["张三", "李 四", "王五" * 10, " "],
            "address": ["人民路9号", " "],
            "reason": ["上门走访", " "],
            "field": ["phone", "id_number"],
            "kind": ["shop", "social", "need", "resource", "other"],
            "id_number": [valid_id(7), valid_id(8, male=False), valid_id(1), "330188600504021"],
            "phone": ["13812345678", "0571-87654321", "+8613812345678", "（0571）87654321"],
            "birth_date": ["1990-03-07", "0001-01-01", "9999-12-31", "2024-02-29", "2023-02-29"],
            "relation": ["head", "child", "不存在"],
            "model": ["registry.person", "registry.household"],
            "object_id": [str(i) for i in ids],
            "number": [case.number] * 3,
            "action": ["take", "cancel", "escalate", "dispatch", "transfer", "rate", "verify"],
            "category": ["0601", "06"],
            "target_unit": ["water"],
            "satisfaction": ["satisfied"],
            "start": ["2026-01-01", "2026-11-01"],
            "end": ["2026-11-26", "2026-12-31"],
            "priority": ["urgent", "normal"],
            "channel": ["phone"],
        },
    )


# ------------------------------------------------------------------ strategies from the schema


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def valid_value(schema: dict, world: World, name: str = "", depth: int = 0, strict=False):
    """Values the schema allows, mostly ones this world knows to be good (only those if strict)."""
    schema = resolve(schema)
    good = world.hints.get(name, []) + world.ints.get(name, [])
    if good and strict:
        return st.sampled_from(good)
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema["oneOf"]
        strategy = st.one_of([valid_value(s, world, name, depth) for s in options])
    else:
        kind = schema.get("type")
        if kind == "string":
            if "pattern" in schema:
                strategy = st.from_regex(schema["pattern"], fullmatch=True)
            elif schema.get("format") == "date":
                strategy = st.dates().map(datetime.date.isoformat)
            elif schema.get("format") == "date-time":
                strategy = st.datetimes().map(datetime.datetime.isoformat)
            else:
                strategy = st.text(max_size=schema.get("maxLength", 60))
        elif kind == "integer":
            strategy = st.integers(schema.get("minimum"), schema.get("maximum"))
        elif kind == "number":
            strategy = st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False)
        elif kind == "boolean":
            strategy = st.booleans()
        elif kind == "null":
            strategy = st.none()
        elif kind == "array" and depth < 3:
            strategy = st.lists(
                valid_value(schema.get("items", {}), world, "", depth + 1),
                max_size=min(schema.get("maxItems", 5), 5),
            )
        elif kind == "object" and depth < 3:
            strategy = object_value(schema, world, depth + 1)
        else:
            strategy = edge_json()
    if good:
        strategy = st.one_of(st.sampled_from(good), st.sampled_from(good), strategy)
    return strategy


@st.composite
def object_value(draw, schema: dict, world: World, depth: int = 0):
    """An object of the schema's shape: every present field valid, then 0-2 fields broken,
    a required field sometimes left out, and sometimes unknown fields added."""
    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    strict = draw(st.booleans())  # half the objects use only known-good values where known
    out = {}
    for name, sub in props.items():
        if name in required or draw(st.booleans()):
            out[name] = draw(valid_value(sub, world, name, depth, strict))
    if depth == 0 and props:
        names = sorted(props)
        for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2]))):
            out[draw(st.sampled_from(names))] = draw(
                st.one_of(edge_json(), st.sampled_from(BIG_INTS + HUGE_INTS))
            )
        if required and draw(st.integers(0, 5)) == 0:
            out.pop(draw(st.sampled_from(sorted(required))), None)
    if draw(st.integers(0, 5)) == 0:
        out.update(draw(st.dictionaries(st.text(max_size=10), edge_json(), max_size=3)))
    return out


def _encode_json(value, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@st.composite
def request_body(draw, spec: dict, world: World):
    """(bytes, content type) for an operation's body: JSON of the schema, wrong JSON, or not JSON."""
    content = (spec.get("requestBody") or {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {"type": "object"})
    choice = draw(st.integers(0, 9))
    if choice <= 5:
        body = _encode_json(draw(object_value(resolve(schema), world)), draw(st.booleans()))
    elif choice <= 7:
        body = _encode_json(draw(st.one_of(edge_json(), st.lists(edge_json()))), True)
    elif choice == 8:
        body = draw(st.sampled_from(RAW_BODIES))
    else:
        body = draw(st.binary(max_size=200))
    content_type = "application/json" if choice <= 7 else draw(st.sampled_from(CONTENT_TYPES))
    if draw(st.integers(0, 9)) == 0:
        content_type = draw(st.sampled_from(CONTENT_TYPES))
    return body, content_type


def _quote(value: str) -> str:
    """Percent-encode everything, lone surrogates included (as the broken UTF-8 they would be)."""
    return quote(value, safe="", errors="surrogatepass")


# Raw fragments for a query string or a path segment that no encoder would write.
RAW_FRAGMENTS = ["%", "%zz", "%FF", "%ED%A0%80", "%C0%AF", "%00", "%2F", "..", ".", "%E4%B8"]


def raw_text(world: World, name: str):
    """A value for a query parameter or a path segment, already percent-encoded."""
    good = [str(v) for v in world.hints.get(name, []) + world.ints.get(name, [])]
    encodable = st.one_of(
        st.sampled_from(good) if good else st.nothing(),
        st.sampled_from(good) if good else st.nothing(),
        edge_string(),
        st.text(max_size=30),
        st.integers(-(2**70), 2**70).map(str),
        st.sampled_from([str(v) for v in BIG_INTS + HUGE_INTS + EDGE_FLOATS]),
    )
    return st.one_of(
        encodable.map(_quote),
        encodable.map(_quote),
        st.sampled_from(RAW_FRAGMENTS),
    )


@st.composite
def query_string(draw, params: list[dict], world: World) -> str:
    pairs = []
    for p in params:
        if draw(st.integers(0, 2)) == 0:
            continue
        name = p["name"]
        for _ in range(draw(st.integers(1, 2))):  # sometimes repeated
            if draw(st.booleans()):
                value = _quote(str(draw(valid_value(p.get("schema", {}), world, name))))
            else:
                value = draw(raw_text(world, name))
            pairs.append(f"{quote_plus(name)}={value}")
    if draw(st.integers(0, 4)) == 0:
        pairs.append(draw(st.sampled_from(["x=1", "=", "&&", "a", "%00=%00", "page", "q"])))
    return "&".join(pairs)


@st.composite
def path_value(draw, p: dict, world: World) -> str:
    name = p["name"]
    if p.get("schema", {}).get("type") == "integer":
        known = world.ints.get(name, [])
        number = draw(
            st.one_of(
                st.sampled_from(known) if known else st.nothing(),
                st.sampled_from(BIG_INTS + HUGE_INTS),
                st.integers(-(2**80), 2**80),
            )
        )
        return str(number) if draw(st.integers(0, 4)) else draw(raw_text(world, name))
    return draw(raw_text(world, name))


@dataclass
class Req:
    method: str
    url: str
    body: bytes = b""
    content_type: str = "application/octet-stream"
    auth: str = "token"

    def __repr__(self) -> str:  # hypothesis prints this for a falsifying example
        body = self.body if len(self.body) < 300 else self.body[:300] + b"..."
        return (
            f"Req({self.method} {self.url[:400]!r} auth={self.auth} "
            f"content_type={self.content_type!r} body={body!r})"
        )


AUTHS = ["token", "token", "token", "session", "anonymous", "bad-token"]
BAD_AUTH_HEADERS = [
    "Bearer",
    "Bearer ",
    "Bearer mq_" + "x" * 300,
    "Bearer \x00",
    "Bearer é中".encode().decode("latin-1"),
    "Basic dXNlcjpwYXNz",
    "bearer mq_nope",
    "Bearer a b c",
    "Token x",
]


@st.composite
def api_request(draw, op, world: World) -> Req:
    method, template, spec = op
    params = spec.get("parameters", [])
    url = template
    for p in params:
        if p["in"] == "path":
            url = url.replace("{" + p["name"] + "}", draw(path_value(p, world)))
    query = draw(query_string([p for p in params if p["in"] == "query"], world))
    if query:
        url += "?" + query
    req = Req(method, url, auth=draw(st.sampled_from(AUTHS)))
    if method in UNSAFE:
        if req.auth == "session":
            req.auth = "token"  # session auth on unsafe methods needs CSRF; tokens do not
        if "requestBody" in spec or draw(st.integers(0, 4)) == 0:
            req.body, req.content_type = draw(request_body(spec, world))
    if req.auth == "bad-token":
        req.auth = "bad-token:" + draw(st.sampled_from(BAD_AUTH_HEADERS))
    return req


# ------------------------------------------------------------------ sending


class Sender:
    def __init__(self, world: World, user):
        self.world = world
        self.anonymous = Client(raise_request_exception=False)
        self.session = Client(raise_request_exception=False)
        self.session.force_login(user)
        self.count = 0

    def send(self, req: Req):
        client = self.session if req.auth == "session" else self.anonymous
        extra = {}
        if req.auth == "token":
            extra["HTTP_AUTHORIZATION"] = f"Bearer {self.world.token}"
        elif req.auth.startswith("bad-token:"):
            extra["HTTP_AUTHORIZATION"] = req.auth.split(":", 1)[1]
        self.count += 1
        with transaction.atomic():
            response = client.generic(
                req.method, req.url, data=req.body, content_type=req.content_type, **extra
            )
            transaction.set_rollback(True)
        return response

    def check(self, req: Req) -> None:
        response = self.send(req)
        if response.status_code >= 500:
            exc = getattr(response, "exc_info", None)
            detail = "".join(traceback.format_exception(*exc)) if exc else response.content[:2000]
            pytest.fail(f"{response.status_code} for {req!r}\n{detail}", pytrace=False)


@pytest.fixture
def sender(world, grid_a_worker):
    return Sender(world, grid_a_worker)


def _op_id(op) -> str:
    return f"{op[0]} {op[1]}"


def fixed_requests(op, world: World):
    """Edge values one at a time, so each is sent at least once whatever Hypothesis draws."""
    method, template, spec = op
    params = spec.get("parameters", [])
    path_params = [p for p in params if p["in"] == "path"]

    def fill(value: str) -> str:
        url = template
        for p in path_params:
            url = url.replace("{" + p["name"] + "}", value)
        return url

    base = fill(str(world.ints["pk"][0]) if path_params and path_params[0]["name"] == "pk" else "")
    if path_params and path_params[0]["name"] == "code":
        base = fill(world.hints["code"][3])
    if path_params:
        for value in ["0", "2147483648", "9223372036854775807", *QUERY_EDGES]:
            yield Req(method, fill(value))
    for p in params:
        if p["in"] == "query":
            for value in QUERY_EDGES:
                yield Req(method, f"{base}?{p['name']}={value}", auth="session")
    if method in UNSAFE:
        for body in RAW_BODIES:
            yield Req(method, base, body, "application/json")
        for content_type in CONTENT_TYPES[1:]:
            yield Req(method, base, RAW_BODIES[-2], content_type)
        content = (spec.get("requestBody") or {}).get("content", {})
        schema = resolve(content.get("application/json", {}).get("schema", {}))
        for name in schema.get("properties", {}):
            for value in EDGE_JSON_SHORT:
                yield Req(method, base, _encode_json({name: value}, True), "application/json")
        for value in EDGE_JSON_SHORT:
            yield Req(method, base, _encode_json(value, True), "application/json")
    yield Req(method, base, auth="anonymous")
    for other in ("PUT", "OPTIONS", "HEAD", "TRACE", "CONNECT", "FOO"):
        yield Req(other, base)
    for header in BAD_AUTH_HEADERS:
        yield Req(method, base, auth="bad-token:" + header)


def fuzz_operation(op, world: World, sender: Sender) -> Sender:
    """Send an operation's fixed edge requests, then what Hypothesis draws; fail on any 5xx."""
    for req in fixed_requests(op, world):
        sender.check(req)

    @FUZZ_SETTINGS
    @given(req=api_request(op, world))
    def fuzz(req):
        sender.check(req)

    fuzz()
    return sender


# ------------------------------------------------------------------ the tests


def test_the_schema_is_served_and_is_the_one_fuzzed(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json()["paths"].keys() == SCHEMA["paths"].keys()
    assert len(OPERATIONS) >= 30


def test_the_nul_guard_runs_before_sessions():
    guard = "minqing.core.middleware.RejectNulMiddleware"
    sessions = "django.contrib.sessions.middleware.SessionMiddleware"
    middleware = django_settings.MIDDLEWARE
    assert guard in middleware, f"settings.MIDDLEWARE needs {guard!r} before {sessions!r}"
    assert middleware.index(guard) < middleware.index(sessions)


COOKIES = [
    'sessionid="\\000\\000\\000\\000\\000\\000\\000\\000abc"',  # quoted octal NULs
    "sessionid=\x00\x00\x00\x00\x00\x00\x00\x00abc",
    "sessionid=" + "x" * 5_000,
    'csrftoken="\\000"; sessionid=%00',
    "sessionid=\xff\xfe; csrftoken=\xff",
    "=; ==; ;;",
]


@pytest.mark.parametrize("cookie", COOKIES)
def test_no_cookie_answers_500(world, sender, cookie):
    for path in ("/", "/people/", "/accounts/login/", "/api/me", "/api/people"):
        response = sender.anonymous.get(path, HTTP_COOKIE=cookie)
        assert response.status_code < 500, (path, cookie)
    # A broken cookie is dropped, not held against the request: the token still works.
    response = sender.anonymous.get(
        "/api/me", HTTP_COOKIE=cookie, HTTP_AUTHORIZATION=f"Bearer {world.token}"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("op", OPERATIONS, ids=[_op_id(op) for op in OPERATIONS])
def test_no_api_input_answers_500(op, world, sender):
    fuzz_operation(op, world, sender)


# ------------------------------------------------------------------ the pages, lightly

PAGE_PARAMS = {
    "/people/": ["q", "node", "tag", "age_min", "age_max", "sex", "page"],
    "/households/": ["q", "node", "tag", "housing", "residence", "page"],
    "/places/": ["q", "node", "tag", "kind", "page"],
    "/orgs/": ["q", "node", "tag", "kind", "page"],
    "/audit/": ["action", "who", "page"],
    "/people/new/": ["household"],
    "/tree/": [],
    "/": [],
}
# The pages get the values that broke something once, not the whole corpus.
PAGE_EDGES = [
    "-1",
    "9223372036854775808",
    "9" * 5_000,
    "%00",
    "a%00b",
    "%C2%B2%C2%B3",
    "%D9%A3",
    "x" * 10_000,
    "%FF",
    "%ED%A0%80",
    "%",
]
PAGE_VALUES = [
    "1",
    "2",
    "M",
    "own",
    "floating",
    "shop",
    "social",
    "1",
    "zs",
    "张三",
    "5678",
    "330188001001001",
]


@st.composite
def page_request(draw, world: World) -> Req:
    if draw(st.integers(0, 3)) == 0:
        code = draw(raw_text(world, "code"))
        suffix = draw(st.sampled_from(["/", "/geojson"]))
        prefix = draw(st.sampled_from(["/tree/", "/teams/"]))
        return Req("GET", prefix + code + (suffix if prefix == "/tree/" else "/card/"))
    path = draw(st.sampled_from(sorted(PAGE_PARAMS)))
    pairs = []
    for name in PAGE_PARAMS[path]:
        if draw(st.booleans()):
            value = draw(st.one_of(st.sampled_from(PAGE_VALUES), raw_text(world, name)))
            pairs.append(f"{name}={value}")
    query = "&".join(pairs)
    return Req("GET", path + ("?" + query if query else ""), auth="session")


def test_no_page_query_answers_500(world, sender):
    shared = set()  # node, tag and page are read by the same code on every list page
    for path, names in PAGE_PARAMS.items():
        for name in names:
            if name in ("node", "tag", "page") and name in shared:
                continue
            shared.add(name)
            for value in PAGE_EDGES:
                sender.check(Req("GET", f"{path}?{name}={value}", auth="session"))
    for value in ["0", "%2F", "..", *PAGE_EDGES]:
        for path in ("/tree/{}/", "/tree/{}/geojson", "/teams/{}/card/"):
            sender.check(Req("GET", path.format(value), auth="session"))
        for path in ("/people/{}/", "/households/{}/", "/places/{}/", "/orgs/{}/"):
            sender.check(Req("GET", path.format(value), auth="session"))

    @hsettings(FUZZ_SETTINGS, max_examples=50)
    @given(req=page_request(world))
    def fuzz(req):
        req.auth = "session"
        sender.check(req)

    fuzz()
