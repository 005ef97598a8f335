"""Pages outside the staff workflow: the resident's progress page and the staff's notifications.

The progress page (查询办理进度) needs no login: a case number and the last 4 digits of the
phone the resident gave. It shows what a resident may know (category, public status, times,
public steps, the answer) and never a name, a phone, an address or an internal note. Guessing
the 4 digits is stopped by a per-IP limit (django-ratelimit) counted in the database cache.
"""

import ipaddress
import urllib.parse

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.core import get_usage

from minqing.cases import notification_list, services, workflow
from minqing.cases.models import DONE_STATUSES, Notification, Satisfaction, Status
from minqing.cases.selectors import unread_count
from minqing.core.digits import plain_digits
from minqing.core.paging import querystring_without_page

ERR_NOT_FOUND = gettext_lazy("未找到该案件。请核对案件编号和您反映问题时所留手机号码的后4位。")
ERR_INCOMPLETE = gettext_lazy("请填写案件编号和手机号码后4位。")
ERR_LIMITED = gettext_lazy("查询过于频繁，请 {minutes} 分钟后再试。")
ERR_RATE_OPEN = gettext_lazy("该案件还在办理中，办结后才能评价。")
ERR_RATE_DONE = gettext_lazy("该案件已经评价过了，感谢您的参与。")
ERR_RATE_CANCELLED = gettext_lazy("该案件已注销，无需评价。")
MSG_THANKS = gettext_noop("感谢您的评价！")
MSG_REOPENED = gettext_noop(
    "您对办理结果不满意，案件已重新交办，办结后会再请您评价。每件案件只重新办理一次。"
)
MSG_RECORDED = gettext_noop("您的意见已记录，我们会认真改进工作。")
MSG_ALL_READ = gettext_noop("通知已全部标为已读。")

# What each step of the timeline says to the resident. Steps not listed (reminders, lateness,
# extension requests, rejections …) are internal and never shown, whatever their public flag.
PUBLIC_EVENT_LABEL = workflow.PUBLIC_STEPS  # the one list: this page and Open311 alike


# --- the rate-limit counter ------------------------------------------------------------------


def client_key(group, request) -> str:
    """The client's address: from the proxy's header when one is configured (the last address
    of a list, the one our proxy added), else REMOTE_ADDR; IPv6 clients by their /64."""
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    raw = request.META.get(header, "") if header else ""
    raw = raw.split(",")[-1].strip() or request.META.get("REMOTE_ADDR", "")
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def _lookup_rate(group, request) -> str:
    return settings.PUBLIC_LOOKUP_RATE


def _limited(request):
    """Count one lookup for the client; the 429 page when it is over the limit, else None.

    Per address only, on purpose: a limit per case number would let anyone lock a resident
    out of their own case by trying wrong digits for it (review, stop 29). What a right guess
    shows is the progress and the answer, never a name or a phone."""
    usage = get_usage(
        request, group="cases.track", key=client_key, rate=_lookup_rate, increment=True
    )
    if usage is None or not usage["should_limit"]:
        return None
    seconds = max(usage["time_left"], 60)
    minutes = -(-seconds // 60)
    response = _render(
        request,
        "cases/public_track.html",
        {"error": ERR_LIMITED.format(minutes=minutes)},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


# --- the progress page -----------------------------------------------------------------------


def _render(request, template: str, context: dict, status: int = 200):
    response = render(request, template, context, status=status)
    # The URL carries the phone digits: keep the page out of shared caches and search engines.
    response["Cache-Control"] = "no-store, private"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _params(data) -> tuple[str, str]:
    """The number and digits as typed, the number written as cases are numbered."""
    number = services.normal_case_number(str(data.get("number", ""))[:40])
    return number, services.normal_digits(str(data.get("last4", ""))[:20])


def public_timeline(case) -> list[dict]:
    """The steps a resident sees: a time and a public label, nothing else."""
    steps = []
    for at, action in (
        case.events.filter(public=True).order_by("at", "id").values_list("at", "action")
    ):
        label = PUBLIC_EVENT_LABEL.get(action)
        if label:
            steps.append({"at": at, "label": gettext(label)})
    return steps


def _progress(request, case, number: str, last4: str, *, status: int = 200, **extra):
    context = {
        "case": case,
        "number": number,
        "last4": last4,
        "category": case.category.name,
        "public_status": workflow.PUBLIC_LABEL.get(case.status, ""),
        "steps": public_timeline(case),
        "done": case.status in DONE_STATUSES,
        # The handle deadline is the promise once someone works on it; before that (and after
        # a reopening) the current stage's deadline is what the resident can wait for.
        "handling": case.status in (Status.DISPATCHED, Status.HANDLING, Status.FED_BACK),
        "can_rate": case.status == Status.CLOSED,
        "satisfactions": Satisfaction.choices,
    }
    context.update(extra)
    return _render(request, "cases/public_progress.html", context, status=status)


@require_GET
def track(request):
    """GET /track/: the form; with ?number=…&last4=… the case's progress."""
    number, last4 = _params(request.GET)
    context = {"number": number, "last4": last4}
    if "number" not in request.GET and "last4" not in request.GET:
        return _render(request, "cases/public_track.html", context)
    if not number or not last4:
        context["error"] = ERR_INCOMPLETE
        return _render(request, "cases/public_track.html", context)
    limited = _limited(request)
    if limited is not None:
        return limited
    case = services.public_lookup(number, last4)
    if case is None:
        # The same answer for an unknown number and for wrong digits.
        context["error"] = ERR_NOT_FOUND
        return _render(request, "cases/public_track.html", context)
    return _progress(request, case, number, last4)


def _track_url(number: str, last4: str) -> str:
    return "/track/?" + urllib.parse.urlencode({"number": number, "last4": last4})


@require_POST
def rate(request):
    """POST /track/rate/: the resident rates a closed case, then sees the progress page again."""
    number, last4 = _params(request.POST)
    limited = _limited(request)
    if limited is not None:
        return limited
    case = services.public_lookup(number, last4)
    if case is None:
        context = {"number": number, "last4": last4, "error": ERR_NOT_FOUND}
        return _render(request, "cases/public_track.html", context)
    satisfaction = str(request.POST.get("satisfaction", ""))
    note = str(request.POST.get("note", "")).strip()
    try:
        case = services.case_rate_public(case=case, satisfaction=satisfaction, note=note)
    except ValidationError as exc:
        errors = {k: " ".join(v) for k, v in exc.message_dict.items()}
        return _progress(
            request, case, number, last4, status=400, rate_errors=errors, note=note,
            chosen=satisfaction,
        )  # fmt: skip
    except services.CaseConflict:
        case.refresh_from_db()
        if case.is_open:
            error = ERR_RATE_OPEN
        elif case.status == Status.CANCELLED:
            error = ERR_RATE_CANCELLED
        else:
            error = ERR_RATE_DONE
        return _progress(request, case, number, last4, status=409, rate_error=error)
    messages.success(request, gettext(MSG_THANKS))
    if satisfaction == Satisfaction.UNSATISFIED:
        reopened = case.status == Status.REGISTERED
        messages.info(request, gettext(MSG_REOPENED if reopened else MSG_RECORDED))
    return redirect(_track_url(number, last4))


# --- notifications ---------------------------------------------------------------------------


def _own_notification(request, pk: int) -> Notification:
    if not (0 < pk < 2**63):
        raise Http404
    notification = (
        Notification.objects.filter(pk=pk, user=request.user).select_related("case").first()
    )
    if notification is None:  # someone else's looks exactly like a missing one
        raise Http404
    return notification


@login_required
def notifications(request):
    page = notification_list.page_of(request, request.user)
    return render(
        request,
        "cases/notifications.html",
        {
            "page": page,
            "rows": notification_list.rows_html(
                page.object_list, csrf_token=get_token(request), page_number=page.number
            ),
            "qs_no_page": querystring_without_page(request),
            "unread": unread_count(request.user),
        },
    )


def _back_to_list(request):
    page = str(request.POST.get("page", ""))
    if plain_digits(page, max_len=6) and page != "1":
        return redirect(f"/notifications/?page={page}")
    return redirect("/notifications/")


@login_required
@require_POST
def notification_read(request, pk: int):
    """Mark one of the user's notifications read; with open=1, go on to its case."""
    notification = _own_notification(request, pk)
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
    if request.POST.get("open") and notification.case_id:
        return redirect(f"/cases/{notification.case.number}/")
    return _back_to_list(request)


@login_required
@require_POST
def notifications_read_all(request):
    Notification.objects.filter(user=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    messages.success(request, gettext(MSG_ALL_READ))
    return redirect("/notifications/")
