"""Sign-in backend: Django's ModelBackend, loading a signed-in user with their role assignments.

Every signed-in request needs the user and, for scoping, their role assignments with their
nodes. Django reads the user in one query and minqing the assignments in another; here one
statement reads both (the user left-joined to assignments and nodes) — for an API call with a
token, the token too — so each page and API call costs one database round trip less. It is a fixed SQL statement rather than an ORM query:
building and compiling the ORM's join cost 0.4 ms of Python per request on PostgreSQL, more
than the database took (and the ORM's raw() 0.2 ms more: it works out per call where each
column goes). The user's columns are converted as the ORM converts them (its converters,
looked up once per connection); assignments and nodes carry only plain text and integer
columns, listed below — any other column (a node's boundary GeoJSON, a field added later) is
left deferred and read if used. The same statement reads figures of the user that most pages
need (`USER_FIGURES`: the unread count, the departments), so no page asks for them again.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.utils import timezone

from minqing.accounts.models import ApiToken, RoleAssignment, Session, User
from minqing.grids.models import Node

ASSIGNMENT_COLUMNS = ["id", "role", "node_id", "data_scope"]
NODE_COLUMNS = ["level", "name", "code", "parent_id", "path", "sort"]
TOKEN_COLUMNS = ["id", "last_used_at"]

# Figures of the signed-in user that pages read on most requests (the header's unread count, the
# departments the cases lists need), read in the same statement as the user: attribute set on
# the user -> a scalar subquery over `u` (the user's row).
# Other apps add theirs when they start (`add_user_figure`), so this module knows none of them.
USER_FIGURES: dict[str, str] = {}


def add_user_figure(attribute: str, subquery: str) -> None:
    """Read `subquery` (SQL returning one value, the user's row is `u`) with every session
    user, into `user.<attribute>`. Not for API tokens: an API call draws no header."""
    USER_FIGURES[attribute] = subquery


def _user_fields() -> list:
    return list(User._meta.concrete_fields)


_statements: dict = {}

# What the statement starts from: a user id, an API token's digest, or a session key (the
# session's data first, then its user — none when nobody is signed in to it).
BY_ID, BY_TOKEN, BY_SESSION = "id", "token", "session"


def _sql(by: str) -> tuple[str, list[str]]:
    """The statement, and the names of its columns after the user's own (built once)."""
    key = (connection.vendor, by, tuple(USER_FIGURES))
    if key not in _statements:
        _statements[key] = _build_sql(by)
    return _statements[key]


def _build_sql(by: str) -> tuple[str, list[str]]:
    q = connection.ops.quote_name
    user, assignment, node, token, session = (
        m._meta.db_table for m in (User, RoleAssignment, Node, ApiToken, Session)
    )
    names = ["ra_" + c for c in ASSIGNMENT_COLUMNS] + ["n_" + c for c in NODE_COLUMNS]
    select = [f"u.{q(f.column)}" for f in _user_fields()]
    select += [f"ra.{q(c)}" for c in ASSIGNMENT_COLUMNS] + [f"n.{q(c)}" for c in NODE_COLUMNS]
    source, where = f"{q(user)} u", f"u.{q('id')} = %s"
    if by == BY_TOKEN:
        names += ["t_" + c for c in TOKEN_COLUMNS]
        select += [f"t.{q(c)}" for c in TOKEN_COLUMNS]
        source = f"{q(token)} t JOIN {q(user)} u ON u.{q('id')} = t.{q('user_id')}"
        where = f"t.{q('digest')} = %s"
    else:
        names += list(USER_FIGURES)
        select += [f"({sql})" for sql in USER_FIGURES.values()]
    if by == BY_SESSION:
        names.append("session_data")
        select.append(f"s.{q('session_data')}")
        source = f"{q(session)} s LEFT JOIN {q(user)} u ON u.{q('id')} = s.{q('user_id')}"
        where = f"s.{q('session_key')} = %s AND s.{q('expire_date')} > %s"
    sql = (
        f"SELECT {', '.join(select)} FROM {source}"
        f" LEFT JOIN {q(assignment)} ra ON ra.{q('user_id')} = u.{q('id')}"
        f" LEFT JOIN {q(node)} n ON n.{q('id')} = ra.{q('node_id')}"
        f" WHERE {where} ORDER BY ra.{q('id')}"
    )
    return sql, names


def _user_converters() -> list[tuple]:
    """Per user field, its column and the ORM's converters of it on this connection (cached
    on the connection)."""
    cached = getattr(connection, "_minqing_user_converters", None)
    if cached is None:
        table = User._meta.db_table
        cached = []
        for field in _user_fields():
            column = field.get_col(table)
            converters = connection.ops.get_db_converters(column)
            cached.append((column, converters + field.get_db_converters(connection)))
        connection._minqing_user_converters = cached
    return cached


def _from_db(model, values: dict):
    """A model instance as the ORM makes it from a row; columns not given are deferred."""
    fields = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(connection.alias, fields, [values[name] for name in fields])


def _converted(model, name: str, value):
    """A joined column's raw value through the ORM's conversions (SQLite dates are text)."""
    field = model._meta.get_field(name)
    column = field.get_col(model._meta.db_table)
    for convert in connection.ops.get_db_converters(column) + field.get_db_converters(connection):
        value = convert(value, column, connection)
    return value


def _load(by: str, params: list) -> tuple[User | None, list, dict]:
    """The user, their assignments, and the other columns of the first row by name (empty
    when no row is found; the user None when a session has nobody signed in)."""
    sql, names = _sql(by)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return None, [], {}
    fields = _user_fields()
    n = len(fields)
    extras = [dict(zip(names, row[n:], strict=True)) for row in rows]
    first = extras[0]
    if rows[0][0] is None:  # a session's LEFT JOIN found no user
        return None, [], first
    values = []
    for (column, converters), value in zip(_user_converters(), rows[0][:n], strict=True):
        for convert in converters:
            value = convert(value, column, connection)
        values.append(value)
    user = User.from_db(connection.alias, [f.attname for f in fields], values)
    assignments = []
    for extra in extras:
        if extra["ra_id"] is None:
            continue
        node = _from_db(
            Node, {"id": extra["ra_node_id"]} | {c: extra["n_" + c] for c in NODE_COLUMNS}
        )
        assignment = _from_db(
            RoleAssignment,
            {"user_id": user.pk} | {c: extra["ra_" + c] for c in ASSIGNMENT_COLUMNS},
        )
        assignment.user, assignment.node = user, node
        assignments.append(assignment)
    for attribute in USER_FIGURES if by != BY_TOKEN else ():
        setattr(user, attribute, first[attribute])
    return user, assignments, first


def user_with_assignments(user_id) -> tuple[User | None, list]:
    """The user and their role assignments (each with `.user` and `.node`), in one statement."""
    user, assignments, _ = _load(BY_ID, [int(user_id)])
    return user, assignments


def token_with_user(digest: str) -> ApiToken | None:
    """The API token with the given digest, its user and their assignments, in one statement.

    The user's role assignments are cached where minqing.accounts.access reads them.
    """
    user, assignments, first = _load(BY_TOKEN, [digest])
    if user is None:
        return None
    token = _from_db(
        ApiToken,
        {
            "id": first["t_id"],
            "user_id": user.pk,
            "last_used_at": _converted(ApiToken, "last_used_at", first["t_last_used_at"]),
        },
    )
    user._minqing_assignments = assignments
    token.user = user
    return token


def session_with_user(session_key: str) -> tuple[str | None, User | None, list]:
    """A live session's data, its signed-in user and their assignments, in one statement.

    (None, None, []) when there is no such session or it has expired; the user None when
    nobody is signed in to it."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    user, assignments, first = _load(BY_SESSION, [session_key, now])
    return first.get("session_data"), user, assignments


# The user read with this request's session (minqing.accounts.sessions), offered to
# ScopedModelBackend.get_user while Django's auth.get_user runs for the request
# (minqing.accounts.middleware). Nothing outlives that call.
_read_with_session: ContextVar[tuple | None] = ContextVar("read_with_session", default=None)


@contextmanager
def offering(read: tuple | None):
    """Within the block, get_user takes `read` ((user, assignments)) for its user id."""
    token = _read_with_session.set(read)
    try:
        yield
    finally:
        _read_with_session.reset(token)


class ScopedModelBackend(ModelBackend):
    def get_user(self, user_id):
        read = _read_with_session.get()
        try:
            if read is not None and read[0].pk == int(user_id):
                user, assignments = read
            else:
                user, assignments = user_with_assignments(user_id)
        except (ValueError, TypeError, OverflowError):
            return None
        if user is None:
            return None
        # The cache minqing.accounts.access.user_assignments reads first.
        user._minqing_assignments = assignments
        return user if self.user_can_authenticate(user) else None
