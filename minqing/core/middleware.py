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
