"""Authentication middleware: Django's, given the user its session store read already.

`minqing.accounts.sessions` reads a signed-in session together with its user; this hands
that user to the backend while Django's `auth.get_user` runs, so the request reads no second
time. Every check stays Django's: the user id in the session data, the backend path, the
password hash (a session read with another user's row, or none, reads the user as before).
Configured in MIDDLEWARE in place of django.contrib.auth's.
"""

from django.contrib import auth
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthentication
from django.utils.functional import SimpleLazyObject

from minqing.accounts.backends import offering


def get_user(request):
    if not hasattr(request, "_cached_user"):
        session = request.session
        session.get(SESSION_KEY)  # reads the session (and its user) if not read yet
        with offering(getattr(session, "read_with_user", None)):
            request._cached_user = auth.get_user(request)
    return request._cached_user


class AuthenticationMiddleware(DjangoAuthentication):
    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))
