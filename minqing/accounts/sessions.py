"""Session store: Django's database sessions, read together with the signed-in user.

Every signed-in request reads its session, then its user. Django does that in two round
trips (the user's id is inside the signed session data) and builds the session's read through
the ORM. Here the session table has the user's id in a column (`accounts.Session`), so one
fixed statement reads the session data, the user, their role assignments and the figures
every page shows (`backends.session_with_user`); the authentication middleware hands that
user to the backend (`minqing.accounts.middleware`). Writing, expiry and clean-up stay
Django's. Configured as SESSION_ENGINE = "minqing.accounts.sessions".
"""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    # (user, assignments) read with the session, for the authentication middleware; None
    # when nobody is signed in or the session was not read from the database.
    read_with_user: tuple | None = None

    @classmethod
    def get_model_class(cls):
        from minqing.accounts.models import Session

        return Session

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        try:
            session.user_id = int(data.get(SESSION_KEY))
        except (TypeError, ValueError):
            session.user_id = None
        return session

    def load(self):
        from minqing.accounts.backends import session_with_user

        self.read_with_user = None
        if self.session_key:
            data, user, assignments = session_with_user(self.session_key)
            if data is not None:
                if user is not None:
                    self.read_with_user = (user, assignments)
                return self.decode(data)
        self._session_key = None  # unknown or expired: a new session gets a new key
        return {}
