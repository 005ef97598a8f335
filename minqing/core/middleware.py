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

from django.http import HttpResponseBadRequest

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
        if (
            NUL in request.path
            or _has_nul(request.GET)
            or (request.content_type == FORM and _has_nul(request.POST))
        ):
            return HttpResponseBadRequest(
                "请求中含有不允许的字符（NUL）。", content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)


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
