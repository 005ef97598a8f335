"""API authentication: the browser session, or a personal token (Authorization: Bearer …)."""

from django.utils import timezone
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


API_AUTH = [TokenAuth(), SessionAuth()]
