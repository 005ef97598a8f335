"""Open311 GeoReport v2 (wiki.open311.org/GeoReport_v2) over the case loop, in XML and JSON.

- GET  services.{fmt}                  the active leaf categories as services
- GET  services/{service_code}.{fmt}   a service definition (we have no attributes)
- POST requests.{fmt}                  a resident's report from an app holding an API key
- GET  requests.{fmt}                  published cases, filtered; requests/{id}.{fmt} one case
- GET  tokens/{token}.{fmt}            the case number behind a token
- GET  servicerequestupdates.{fmt}     the public timeline rows (the FixMyStreet extension)

What is published: only cases that came in through an open channel (online reports, including
Open311 itself, and grid patrols) in a category marked public (`Category.published`: the
public-space classes of 数字城管 — a street light, a drain, rubbish, illegal building). A patrol
also records a neighbours' quarrel or a request for help, and a resident's app may report one:
those categories (社区事务: disputes, help, petitions …) are private and never listed, whatever
the channel. Cases recorded from visits, calls, the reception day, the hotline or petitions are
conversations with residents and never leave through this API. Of a published case the API
gives what the spec lists: never the reporter's name or phone, never a handler's name, never an
internal note. The description is published as the spec does; it is the resident's own text.
A client's own reports are also readable by that client, with its `api_key` on the GET: a 12345
hotline platform (a client whose channel is 12345) sends reports that are 12345 cases, never
published, and follows them this way; an app follows its residents' requests for help so.

Errors are the spec's error documents with HTTP 400 / 403 / 404 (405 for a wrong method), with
a Chinese and an English reason. No input answers 500.
"""

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import wraps

from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import DataError
from django.db.models import Q
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt

from minqing.cases import config, intake, services
from minqing.cases.models import (
    DONE_STATUSES,
    OPEN_STATUSES,
    PUBLISHED_CHANNELS,
    Case,
    CaseEvent,
    Category,
    Channel,
    IntakeState,
    Open311Client,
    Open311Intake,
    Status,
)
from minqing.cases.workflow import PUBLIC_LABEL, PUBLIC_STEPS
from minqing.core.i18n import source
from minqing.core.pasted import plain

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json"}
MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)
MAX_DESCRIPTION = 4000
NUMBER_RE = re.compile(r"^\d{8}-\d{6}$")
TOKEN_RE = re.compile(r"^[0-9a-f]{1,32}$")
MEDIA_URL_RE = re.compile(r"^https?://[^\s<>\"]+$")
COORD_RE = re.compile(r"^[+-]?\d{1,3}(\.\d{1,15})?$")
# XML 1.0 cannot carry these at all, not even escaped: drop them from what we write.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

NOTICE = "已受理，案件编号 {number}。可凭案件编号和手机号后四位查询办理进度。"
NOTICE_NO_PHONE = "已受理，案件编号 {number}。"  # no phone given: no lookup by its digits
NOTICE_DEFERRED = "已收到，正在受理。稍后可凭 token 查询案件编号。"

# The status words FixMyStreet understands in servicerequestupdates.
UPDATE_STATUS = {
    Status.ACCEPTED: "open",
    Status.REGISTERED: "open",
    Status.DISPATCHED: "action_scheduled",
    Status.HANDLING: "in_progress",
    Status.FED_BACK: "in_progress",
    Status.CLOSED: "fixed",
    Status.RATED: "fixed",
    Status.CANCELLED: "closed",
}


class Open311Error(Exception):
    def __init__(self, code: int, zh: str, en: str):
        super().__init__(en)
        self.code = code
        self.description = f"{zh} ({en})"


# --- rendering -------------------------------------------------------------------------------


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return XML_ILLEGAL.sub("", str(value))


def _xml_fill(element: ET.Element, value, item_tag: str = "item") -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            child = ET.SubElement(element, key)
            _xml_fill(child, sub, item_tag=key[:-1] if key.endswith("s") else "item")
    elif isinstance(value, list):
        for sub in value:
            _xml_fill(ET.SubElement(element, item_tag), sub)
    else:
        element.text = _text(value)


def render(fmt: str, root: str, item: str, body, status: int = 200) -> HttpResponse:
    """A list of rows (XML: <root><item>…</item></root>; JSON: a bare array) or one object."""
    if fmt == "json":
        content = json.dumps(body, ensure_ascii=False)
    else:
        element = ET.Element(root)
        _xml_fill(element, body, item_tag=item)
        content = XML_DECLARATION + ET.tostring(element, encoding="unicode").encode()
    return HttpResponse(content, status=status, content_type=FORMATS[fmt])


def error_response(fmt: str, code: int, description: str) -> HttpResponse:
    fmt = fmt if fmt in FORMATS else "xml"
    body = [{"code": code, "description": description}]
    return render(fmt, "errors", "error", body, status=code)


def endpoint(*methods: str):
    """Check the format and the method, and turn Open311Error into an error document."""
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def wrap(view):
        @wraps(view)
        def inner(request, fmt: str, **kwargs):
            if fmt not in FORMATS:
                return error_response(
                    "xml", 404, f"不支持的格式 (format not supported: {fmt[:20]}; use xml or json)"
                )
            if request.method not in allowed:
                response = error_response(
                    fmt, 405, f"不支持 {request.method} 请求 (method not allowed)"
                )
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            try:
                # Open311 speaks Chinese whatever the client's Accept-Language: the service's
                # messages (translated for the app's own pages) are given in their source text.
                with translation.override(None):
                    return view(request, fmt, **kwargs)
            except Open311Error as e:
                return error_response(fmt, e.code, e.description)
            except DataError:
                return error_response(fmt, 400, "请求中含有无法处理的数据 (invalid input)")

        # No session, no CSRF: a POST to a GET-only resource is told 405 in an error document
        # (it got Django's CSRF page, in HTML). Writes authenticate by api_key.
        return csrf_exempt(inner)

    return wrap


@csrf_exempt
def not_found(request, rest: str = "") -> HttpResponse:
    """An unknown resource, told in the format its name asks for (discovery.json: JSON), to a
    POST as well (no session here: it got Django's HTML CSRF page)."""
    fmt = "json" if rest.endswith(".json") else "xml"
    return error_response(fmt, 404, "没有这个接口 (no such resource)")


def _dt(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _coord(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


# --- services ----------------------------------------------------------------------------------


def service_categories() -> list[Category]:
    """Active categories without active sub-categories, under active parents, in sort order."""
    return list(config.catalog().leaves)


def _service_of(code: str) -> Category:
    code = (code or "").strip()
    if not code:
        raise Open311Error(400, "缺少服务类别", "service_code not provided")
    category = config.catalog().leaf_by_code.get(code)
    if category is None:
        raise Open311Error(404, "找不到该服务类别", f"service_code not found: {code[:20]}")
    return category


def _service_row(category: Category) -> dict:
    group = category.parent.name if category.parent_id else None
    keywords = ", ".join(n for n in (category.name, group) if n)
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or category.name,
        "metadata": False,
        "type": "realtime",
        "keywords": keywords,
        "group": group,
    }


@endpoint("GET")
def service_list(request, fmt):
    rows = [_service_row(c) for c in service_categories()]
    return render(fmt, "services", "service", rows)


@endpoint("GET")
def service_definition(request, fmt, code):
    category = _service_of(code)
    body = {"service_code": category.code, "attributes": []}
    return render(fmt, "service_definition", "attribute", body)


# --- requests ----------------------------------------------------------------------------------


def _readable(request, prefix: str = "") -> Q:
    """What a GET may show: the published cases, and with a client's `api_key` also the
    cases that client sent (a 12345 platform's own, unpublished reports). The spec makes the
    key optional on a GET: one that is no client's adds nothing (it is not refused)."""
    q = Q(**{f"{prefix}channel__in": PUBLISHED_CHANNELS, f"{prefix}category__published": True})
    client = _client_of(request.GET.get("api_key") or "")
    if client is not None:
        q |= Q(**{f"{prefix}open311_client": client})
    return q


def _published(request):
    return Case.objects.filter(_readable(request)).select_related(
        "category", "handler_unit", "level_node"
    )


def _status_notes(case: Case) -> str:
    if case.status in DONE_STATUSES and case.answer:
        return case.answer
    if case.status == Status.CANCELLED and case.cancel_reason:
        return case.cancel_reason
    return source(PUBLIC_LABEL.get(case.status, ""))  # Open311 speaks Chinese, like the notice


def _request_row(case: Case) -> dict:
    is_open = case.status in OPEN_STATUSES
    if is_open:
        updated, expected = case.updated_at, case.handle_deadline or case.deadline
    else:
        updated, expected = case.closed_at or case.updated_at, None
    agency = case.handler_unit.name if case.handler_unit_id else case.level_node.name
    return {
        "service_request_id": case.number,
        "status": "open" if is_open else "closed",
        "status_notes": _status_notes(case),
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": case.description,
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": _dt(case.accepted_at),
        "updated_datetime": _dt(updated),
        "expected_datetime": _dt(expected),
        "address": case.address or None,
        "address_id": _address_id(case.address),
        "zipcode": None,
        "lat": _coord(case.lat),
        "long": _coord(case.lng),
        "media_url": _media_url(case.description),
    }


# A case has no columns for a client's link or address id: a POST keeps them in the
# description's last line and the address (below); GET gives them back in their own fields.
MEDIA_LINE = "\n附图链接："
ADDRESS_ID = "地址编号 "


def _media_url(description: str) -> str | None:
    head, sep, url = (description or "").rpartition(MEDIA_LINE)
    return url if sep and MEDIA_URL_RE.match(url) else None


def _address_id(address: str) -> str | None:
    return address[len(ADDRESS_ID) :] if (address or "").startswith(ADDRESS_ID) else None


def _param(request, name: str, limit: int = 200) -> str:
    value = request.GET.get(name, "")
    if len(value) > limit:
        raise Open311Error(400, f"参数 {name} 过长", f"{name} is too long")
    return value.strip()


def _parse_date(name: str, raw: str) -> datetime | None:
    if not raw:
        return None
    # An unencoded "+08:00" in a query string arrives as " 08:00".
    raw = re.sub(r"(T\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$", r"\1+\2", raw)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise Open311Error(
            400,
            f"{name} 日期格式不正确",
            f"{name} must be ISO 8601, e.g. 2024-05-01T00:00:00+08:00",
        ) from None
    if not (2000 <= value.year <= 2100):
        raise Open311Error(400, f"{name} 日期超出范围", f"{name} is out of range")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _date_range(request) -> tuple[datetime, datetime]:
    start = _parse_date("start_date", _param(request, "start_date", 60))
    end = _parse_date("end_date", _param(request, "end_date", 60))
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if start > end:
        raise Open311Error(400, "开始日期晚于结束日期", "start_date is after end_date")
    if end - start > MAX_SPAN:
        raise Open311Error(400, "查询时间跨度不能超过 90 天", "date range may not exceed 90 days")
    return start, end


def _list_param(request, name: str) -> list[str]:
    raw = _param(request, name, 20000)
    return [v.strip() for v in raw.split(",") if v.strip()][:MAX_RESULTS]


def request_list(request, fmt):
    """GET requests.{fmt}: published cases, newest first."""
    qs = _published(request)
    ids = _list_param(request, "service_request_id")
    if ids:
        # The spec: service_request_id overrides every other argument.
        qs = qs.filter(number__in=[i for i in ids if NUMBER_RE.match(i)])
    else:
        start, end = _date_range(request)
        qs = qs.filter(accepted_at__gte=start, accepted_at__lte=end)
        codes = _list_param(request, "service_code")
        if codes:
            qs = qs.filter(category__code__in=[c[:20] for c in codes])
        statuses = {s.lower() for s in _list_param(request, "status")}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status 只能是 open 或 closed", "status must be open or closed")
        if statuses == {"open"}:
            qs = qs.filter(status__in=OPEN_STATUSES)
        elif statuses == {"closed"}:
            qs = qs.exclude(status__in=OPEN_STATUSES)
    rows = [_request_row(c) for c in qs.order_by("-accepted_at", "-id")[:MAX_RESULTS]]
    return render(fmt, "service_requests", "request", rows)


@endpoint("GET")
def request_detail(request, fmt, number):
    case = _published(request).filter(number=number).first() if NUMBER_RE.match(number) else None
    if case is None:
        raise Open311Error(404, "找不到该案件", f"service_request_id not found: {number[:20]}")
    return render(fmt, "service_requests", "request", [_request_row(case)])


@endpoint("GET")
def token_detail(request, fmt, token):
    if not TOKEN_RE.match(token):
        raise Open311Error(404, "找不到该凭据", "token not found")
    found = _published(request).filter(token=token).first()
    if found is None:
        # A deferred report: filed now if it still waits (a worker may be filing it this
        # moment: then the client hears it is waiting and asks again).
        report = intake.file_token(token) or Open311Intake.objects.filter(token=token).first()
        if report is None:
            raise Open311Error(404, "找不到该凭据", "token not found")
        if report.state == IntakeState.FAILED:
            raise Open311Error(
                404, f"该报告未能受理：{report.error}", "the report could not be filed"
            )
        if report.state in (IntakeState.WAITING, IntakeState.FILING):
            body = [{"service_request_id": None, "token": token}]
            return render(fmt, "service_requests", "request", body)
        found = _published(request).filter(token=token).first()
        if found is None:  # filed, then the case withdrawn from public view
            raise Open311Error(404, "找不到该凭据", "token not found")
    body = [{"service_request_id": found.number, "token": found.token}]
    return render(fmt, "service_requests", "request", body)


# --- creating a request ------------------------------------------------------------------------


def _client_of(key: str) -> Open311Client | None:
    if not key or len(key) > 200:
        return None
    return config.open311_client(hashlib.sha256(key.encode()).hexdigest())


def _client(request) -> Open311Client:
    client = _client_of(request.POST.get("api_key") or request.GET.get("api_key") or "")
    if client is None:
        raise Open311Error(403, "API 密钥无效", "invalid or missing api_key")
    return client


def _coordinate(name: str, raw: str, bound: int) -> str:
    ok = len(raw) <= 40 and COORD_RE.match(raw)
    if ok:
        try:
            ok = abs(Decimal(raw)) <= bound
        except InvalidOperation:
            ok = False
    if not ok:
        raise Open311Error(
            400, "经纬度不正确", f"{name} must be a number between -{bound} and {bound}"
        )
    return raw


def _reporter_name(first: str, last: str) -> str:
    if not (first or last):
        return ""
    if (first + last).isascii():
        return f"{first} {last}".strip()
    return f"{last}{first}"  # 姓在前


FIELD_EN = {
    "description": ("description", "description is invalid"),
    "address": ("address_string", "address_string is too long (200 characters at most)"),
    "reporter_phone": ("phone", "invalid phone number"),
    "lat": ("lat", "invalid lat/long"),
    "category": ("service_code", "service_code not found"),
}


def _validation_error(e: ValidationError) -> Open311Error:
    zh, en = [], []
    for field, messages in e.message_dict.items():
        zh.extend(messages)
        name, reason = FIELD_EN.get(field, (field, "invalid"))
        en.append(reason if name in reason else f"{name}: {reason}")
    return Open311Error(400, "；".join(zh), "; ".join(en))


@csrf_exempt
@endpoint("GET", "POST")
def requests_view(request, fmt):
    if request.method == "POST":
        return request_create(request, fmt)
    return request_list(request, fmt)


def request_create(request, fmt):
    """POST requests.{fmt}: file a case as a public report from the client's app."""
    try:
        post = request.POST
    except (MultiPartParserError, SuspiciousOperation):
        raise Open311Error(400, "请求体无法解析", "malformed request body") from None
    if request.content_type == "multipart/form-data" and not post and not request.FILES:
        # A body cut short after its boundary ("--zzz\r\nbad") parses to nothing, not to an
        # error: it was told its api_key was missing (403).
        raise Open311Error(400, "请求体无法解析或为空", "malformed or empty multipart body")
    if any("\x00" in k or any("\x00" in v for v in vs) for k, vs in post.lists()):
        raise Open311Error(400, "请求中含有不允许的字符", "NUL characters are not allowed")
    client = _client(request)
    category = _service_of(post.get("service_code", ""))

    def field(name: str, limit: int = 200) -> str:
        value = post.get(name, "").strip()
        if len(value) > limit:
            raise Open311Error(400, f"{name} 过长", f"{name} is too long ({limit} at most)")
        return value

    lat, lng = field("lat", 60), field("long", 60)
    # The address id is kept in the address after its prefix: so much of it comes back whole
    # (one of 200 characters was accepted and came back cut to 195).
    address, address_id = field("address_string", 200), field("address_id", 200 - len(ADDRESS_ID))
    if lat or lng:
        lat = _coordinate("lat", lat, 90)
        lng = _coordinate("long", lng, 180)
    if not ((lat and lng) or address or address_id):
        raise Open311Error(
            400, "缺少位置", "missing location: send lat and long, address_string or address_id"
        )
    description = plain(post.get("description", ""))  # zero-width marks only: none given
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(
            400, "情况描述不能超过 4000 个字", "description is limited to 4,000 characters"
        )
    description = description or category.name
    # Case has no field for a link; staff see it at the end of the description.
    media_url = field("media_url", 1000)
    if media_url and MEDIA_URL_RE.match(media_url):
        line = f"{MEDIA_LINE}{media_url}"
        if len(description) + len(line) <= MAX_DESCRIPTION:
            description += line
    data = {
        "category": category,
        "description": description,
        "address": address or (f"{ADDRESS_ID}{address_id}" if address_id else ""),
        "lat": lat or None,
        "lng": lng or None,
        "reporter_name": _reporter_name(field("first_name", 50), field("last_name", 50))[:50],
        "reporter_phone": field("phone", 40),
        "channel": client.channel or Channel.ONLINE,
    }
    try:
        if client.deferred:
            report = intake.receive(client, data)
        else:
            case = services.case_accept(
                acting_user=None,
                public=True,
                source_client=client.name,
                open311_client=client,
                data=data,
            )
    except ValidationError as e:
        raise _validation_error(e) from None
    if client.deferred:
        body = [{"token": report.token, "service_notice": NOTICE_DEFERRED, "account_id": None}]
        return render(fmt, "service_requests", "request", body)
    body = [
        {
            "service_request_id": case.number,
            "token": case.token,
            "service_notice": (NOTICE if case.reporter_phone_last4 else NOTICE_NO_PHONE).format(
                number=case.number
            ),
            "account_id": None,
        }
    ]
    return render(fmt, "service_requests", "request", body)


# --- updates (FixMyStreet) ---------------------------------------------------------------------


def _update_description(event: CaseEvent) -> str:
    """The step in the words of the resident's page (workflow.PUBLIC_STEPS)."""
    return PUBLIC_STEPS[event.action]


@endpoint("GET")
def update_list(request, fmt):
    """Oldest first. From a start_date, the first MAX_RESULTS after it (a client syncing reads
    on from the last one it got); without one, the newest MAX_RESULTS up to the end (the
    oldest 1 000 of 90 days left out the updates of the last week)."""
    start, end = _date_range(request)
    events = CaseEvent.objects.filter(
        _readable(request, "case__"),
        public=True,
        action__in=list(PUBLIC_STEPS),  # not the internal steps /track/ leaves out
        at__gte=start,
        at__lte=end,
    ).select_related("case")
    if request.GET.get("start_date"):
        events = list(events.order_by("at", "id")[:MAX_RESULTS])
    else:
        events = list(events.order_by("-at", "-id")[:MAX_RESULTS])[::-1]
    rows = [
        {
            "update_id": event.pk,
            "service_request_id": event.case.number,
            "status": UPDATE_STATUS.get(event.to_status or event.case.status, "open"),
            "updated_datetime": _dt(event.at),
            "description": _update_description(event),
            "media_url": None,
        }
        for event in events
    ]
    return render(fmt, "service_requests_updates", "request_update", rows)
