"""Sign-in backend: Django's ModelBackend, loading a signed-in user with their role assignments.

Every signed-in request needs the user and, for scoping, their role assignments with the nodes.
Django reads the user in one query and minqing the assignments in another; here one query reads
both (assignment rows joined to their user and node), so each page and API call costs one
database round trip less. A user without assignments (an admin with no place) is read alone.

Nodes come without their boundary: a county's GeoJSON can be large and no request needs it for
scoping (a page that draws the map reads it when it does).
"""

from django.contrib.auth.backends import ModelBackend

from minqing.accounts.models import RoleAssignment, User


def assignments_with_user(user_id) -> list:
    """The user's role assignments, each with `.user` and `.node` loaded, in one query."""
    return list(
        RoleAssignment.objects.filter(user_id=user_id)
        .select_related("user", "node")
        .defer("node__boundary")
        .order_by("pk")
    )


class ScopedModelBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            rows = assignments_with_user(user_id)
        except (ValueError, TypeError):
            return None
        if rows:
            user = rows[0].user
            for row in rows:
                row.user = user  # one user object, as user.assignments.all() would give
        else:
            try:
                user = User._default_manager.get(pk=user_id)
            except (User.DoesNotExist, ValueError, TypeError):
                return None
        # The cache minqing.accounts.access.user_assignments reads first.
        user._minqing_assignments = rows
        return user if self.user_can_authenticate(user) else None
