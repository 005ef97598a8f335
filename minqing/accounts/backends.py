"""Sign-in backend: Django's ModelBackend, loading a signed-in user with their role assignments.

Every signed-in request needs the user and, for scoping, their role assignments with their
nodes. Django reads the user in one query and minqing the assignments in another; here one
statement reads both (the user left-joined to assignments and nodes) — for an API call with a
token, the token too — so each page and API call costs one database round trip less. It is a fixed SQL statement rather than an ORM query:
building and compiling the ORM's join cost 0.4 ms of Python per request on PostgreSQL, more
than the database took. The user's columns go through the ORM's raw() (its field conversions
apply); assignments and nodes carry only plain text and integer columns, listed below — any
other column (a node's boundary GeoJSON, a field added later) is left deferred and read if used.
"""

from django.contrib.auth.backends import ModelBackend
from django.db import connection

from minqing.accounts.models import ApiToken, RoleAssignment, User
from minqing.grids.models import Node

ASSIGNMENT_COLUMNS = ["id", "role", "node_id", "data_scope"]

# Figures of the signed-in user that every page's header shows, read in the same statement
# as the user: attribute set on the user -> a scalar subquery over `u` (the user's row).
# Other apps add theirs when they start (`add_user_figure`), so this module knows none of them.
USER_FIGURES: dict[str, str] = {}


def add_user_figure(attribute: str, subquery: str) -> None:
    """Read `subquery` (SQL returning one value, the user's row is `u`) with every session
    user, into `user.<attribute>`. Not for API tokens: an API call draws no header."""
    USER_FIGURES[attribute] = subquery


NODE_COLUMNS = ["level", "name", "code", "parent_id", "path", "sort"]
TOKEN_COLUMNS = ["id", "last_used_at"]


def _sql(by_token: bool) -> str:
    q = connection.ops.quote_name
    user, assignment, node, token = (
        m._meta.db_table for m in (User, RoleAssignment, Node, ApiToken)
    )
    extra = [f"ra.{q(c)} AS {q('ra_' + c)}" for c in ASSIGNMENT_COLUMNS]
    extra += [f"n.{q(c)} AS {q('n_' + c)}" for c in NODE_COLUMNS]
    source, where = f"{q(user)} u", f"u.{q('id')} = %s"
    if not by_token:
        extra += [f"({sql}) AS {q(attribute)}" for attribute, sql in USER_FIGURES.items()]
    if by_token:
        extra += [f"t.{q(c)} AS {q('t_' + c)}" for c in TOKEN_COLUMNS]
        source = f"{q(token)} t JOIN {q(user)} u ON u.{q('id')} = t.{q('user_id')}"
        where = f"t.{q('digest')} = %s"
    return (
        f"SELECT u.*, {', '.join(extra)} FROM {source}"
        f" LEFT JOIN {q(assignment)} ra ON ra.{q('user_id')} = u.{q('id')}"
        f" LEFT JOIN {q(node)} n ON n.{q('id')} = ra.{q('node_id')}"
        f" WHERE {where} ORDER BY ra.{q('id')}"
    )


def _prefixed(row, prefix: str, columns: list[str]) -> dict:
    return {c: getattr(row, prefix + c) for c in columns}


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


def _load(sql: str, param) -> tuple[User | None, list, list]:
    rows = list(User.objects.raw(sql, [param]))
    if not rows:
        return None, [], rows
    user, assignments = rows[0], []
    for row in rows:
        if row.ra_id is None:
            continue
        node = _from_db(Node, {"id": row.ra_node_id} | _prefixed(row, "n_", NODE_COLUMNS))
        assignment = _from_db(
            RoleAssignment, {"user_id": user.pk} | _prefixed(row, "ra_", ASSIGNMENT_COLUMNS)
        )
        assignment.user, assignment.node = user, node
        assignments.append(assignment)
    return user, assignments, rows


def _clean(user: User) -> None:
    """Drop the joined columns from the user: they live on their own objects now."""
    for prefix, columns in (
        ("ra_", ASSIGNMENT_COLUMNS),
        ("n_", NODE_COLUMNS),
        ("t_", TOKEN_COLUMNS),
    ):
        for column in columns:
            user.__dict__.pop(prefix + column, None)


def user_with_assignments(user_id) -> tuple[User | None, list]:
    """The user and their role assignments (each with `.user` and `.node`), in one statement."""
    user, assignments, _ = _load(_sql(by_token=False), int(user_id))
    if user is not None:
        _clean(user)
    return user, assignments


def token_with_user(digest: str) -> ApiToken | None:
    """The API token with the given digest, its user and their assignments, in one statement.

    The user's role assignments are cached where minqing.accounts.access reads them.
    """
    user, assignments, rows = _load(_sql(by_token=True), digest)
    if user is None:
        return None
    token = _from_db(
        ApiToken,
        {
            "id": rows[0].t_id,
            "user_id": user.pk,
            "last_used_at": _converted(ApiToken, "last_used_at", rows[0].t_last_used_at),
        },
    )
    _clean(user)
    user._minqing_assignments = assignments
    token.user = user
    return token


class ScopedModelBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            user, assignments = user_with_assignments(user_id)
        except (ValueError, TypeError, OverflowError):
            return None
        if user is None:
            return None
        # The cache minqing.accounts.access.user_assignments reads first.
        user._minqing_assignments = assignments
        return user if self.user_can_authenticate(user) else None
