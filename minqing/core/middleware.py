"""Inputs no page or API call can use, stopped before they reach the database.

PostgreSQL cannot store or even compare a text value containing NUL ("\\x00"): psycopg raises
DataError for any query that carries one, so an unguarded `?q=%00`, `/tree/%00/` or a session
cookie with a NUL would answer 500. No legitimate input contains NUL, so:

* a path, query string or url-encoded form with a NUL answers 400;
* a cookie with a NUL is dropped, as if the browser had not sent it (a stale or forged cookie
  must not lock its owner out of the login page).

Place it before SessionMiddleware, which looks the session cookie up in the database.
Multipart bodies are not read here (reading them would consume the stream); JSON bodies are the
API's to validate (minqing.api answers DataError with 400).
"""

import time

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

NUL = "\x00"
FORM = "application/x-www-form-urlencoded"


def _has_nul(query_dict) -> bool:
    return any(
        NUL in key or any(NUL in value for value in values) for key, values in query_dict.lists()
    )


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any(NUL in key or NUL in value for key, value in request.COOKIES.items()):
            request.COOKIES = {
                key: value
                for key, value in request.COOKIES.items()
                if NUL not in key and NUL not in value
            }
        try:
            nul = (
                NUL in request.path
                or _has_nul(request.GET)
                or (request.content_type == FORM and _has_nul(request.POST))
            )
        except (RequestDataTooBig, TooManyFieldsSent):
            return bad_request(
                request, gettext_noop("请求过大：字段太多或内容太长。"), "request too large"
            )
        if nul:
            return bad_request(
                request, gettext_noop("请求中含有不允许的字符（NUL）。"), "NUL character"
            )
        return self.get_response(request)


def bad_request(request, chinese: str, english: str):
    """A 400 in the shape the caller reads: an Open311 error document, the API's JSON, or
    text for a page (a browser never sends these)."""
    path = request.path
    if path.startswith("/api/"):
        # Before LocaleMiddleware: the caller's language is read here, as the API's answers are.
        with translation.override(translation.get_language_from_request(request)):
            # The shape of every API 400 (FieldErrorsOut), no field being to blame.
            return JsonResponse({"detail": gettext(chinese), "errors": {}}, status=400)
    if path.startswith("/open311/"):
        from minqing.cases.open311 import error_response

        fmt = "json" if ".json" in path else "xml"
        return error_response(fmt, 400, f"{chinese} ({english})")
    return HttpResponseBadRequest(chinese, content_type="text/plain; charset=utf-8")


class IdleSessionMiddleware:
    """The 30-minute idle timeout without a session write on every request.

    Saving the session on every request (SESSION_SAVE_EVERY_REQUEST) moves its expiry forward
    but costs an UPDATE and a COMMIT per page — on PostgreSQL a good share of a list page. Here
    a signed-in session is saved (and its expiry moved) at most once a minute, so a user idle
    for 30 minutes is signed out between 29 and 30 minutes after their last request.
    Place it after SessionMiddleware, so that its save sees the change.
    """

    TOUCH_EVERY = 60  # seconds
    KEY = "_touched"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # A request that never looked at the session (static files, /healthz, an API call with
        # a token) is not the user's activity, and must not cost a session read.
        if session is None or not session.accessed or session.session_key is None:
            return response
        if not session.get("_auth_user_id"):
            return response
        now = int(time.time())
        if now - session.get(self.KEY, 0) >= self.TOUCH_EVERY:
            session[self.KEY] = now
        return response


class MethodNotAllowedPageMiddleware:
    """A page, not the browser's blank "HTTP ERROR 405", for an address that only takes a form.

    A form shown again with its errors stays at its action's address (/cases/…/act/supervise/);
    bookmarked, shared or opened again from the history, that address is asked for with GET,
    which the view refuses with an empty 405. For a browser's GET this middleware answers the
    same status with a page that says why and links to the page the action belongs to. The API
    and Open311 keep their own error documents. Place it last, so the page knows its user.
    """

    PLAIN = ("/api/", "/open311/", "/static/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 405
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            # ninja's own 405 is "Method not allowed" as text/html: the API speaks JSON.
            api = JsonResponse({"detail": gettext("不支持 %(method)s 请求。") % {
                "method": request.method[:10]}}, status=405)  # fmt: skip
            if response.has_header("Allow"):
                api["Allow"] = response["Allow"]
            return api
        if (
            response.status_code != 405
            or request.method not in ("GET", "HEAD")
            or request.path.startswith(self.PLAIN)
            or getattr(response, "streaming", False)
            or response.content
        ):
            return response
        back = _page_above(request.path)
        page = render(request, "405.html", {"back": back, "lang_next": back}, status=405)
        if response.has_header("Allow"):
            page["Allow"] = response["Allow"]
        return page


def _page_above(path: str) -> str:
    """The nearest address above `path` that names a page (/cases/X/act/y/ → /cases/X/)."""
    parts = [p for p in path.split("/") if p]
    for cut in range(1, min(len(parts), 3) + 1):
        above = "/" + "".join(f"{p}/" for p in parts[:-cut])
        try:
            resolve(above)
        except Resolver404:
            continue
        return above
    return "/"
