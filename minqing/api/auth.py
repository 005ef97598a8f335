"""API authentication: the browser session, or a personal token (Authorization: Bearer …)."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from minqing.accounts.backends import token_with_user
from minqing.accounts.models import ApiToken


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        if not token or len(token) > 200:
            return None
        # The token, its user and their role assignments in one statement (accounts.backends).
        row = token_with_user(ApiToken.digest_of(token))
        if row is None or not row.user.is_active:
            return None
        now = timezone.now()
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        return row.user


class BrowserSessionAuth(SessionAuth):
    """The browser session, for requests that offer no token.

    ninja's SessionAuth checks the CSRF token before it looks at the session: a write with a
    wrong token, or with nothing at all, answered 403 "CSRF check Failed" in English where a
    401 "sign in first" was meant. A request that offers a token is the token's to decide;
    one without a session is a 401; only a signed-in browser's write is checked for CSRF,
    and told so in its language.
    """

    def __call__(self, request):
        if request.headers.get("Authorization", "").lower().startswith("bearer "):
            return None  # (a proxy's Basic credentials leave the session to decide)
        if not request.user.is_authenticated:
            return None
        try:
            return super().__call__(request)
        except HttpError as exc:
            if exc.status_code == 403:
                raise HttpError(403, str(ERR_CSRF)) from None
            raise


ERR_CSRF = _("CSRF 校验失败：请刷新页面后重试（或改用 API 令牌）。")

API_AUTH = [TokenAuth(), BrowserSessionAuth()]
