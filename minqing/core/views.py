from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.generic import RedirectView

from minqing.accounts.access import home_node, user_scope, visible_nodes
from minqing.accounts.models import Role
from minqing.cases.selectors import home_counts
from minqing.core import statements, workdays
from minqing.grids.models import Level
from minqing.registry.selectors import (
    care_group_counts,
    households_for,
    organisations_for,
    people_for,
    places_for,
)
from minqing.visits.selectors import due_totals, first_grids, grid_due_page_rows


@require_GET
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


class FaviconView(RedirectView):
    """/favicon.ico, which browsers ask for on pages without an icon link (the admin, the
    printable cards, the error pages): the app's icon, not a 404 in every log. Not a permanent
    redirect: the icon's static name carries its content hash, which a new release changes."""

    permanent = False

    def get_redirect_url(self, *args, **kwargs):
        return static("minqing/favicon.svg")


HOME_DUE_ROWS = 5
HOME_GRIDS = 60


@login_required
def home(request):
    user = request.user
    scope = user_scope(user)
    node = home_node(user)
    # Each count compiled once per user and scope (core.statements): the home page is opened
    # all day, and building its scoped queries cost Django more than counting cost PostgreSQL.
    key = (user.pk, scope.key)
    counts = {
        name: statements.count((f"home.{name}", *key), lambda qs=qs: qs(user))
        for name, qs in (
            ("households", households_for),
            ("people", people_for),
            ("places", places_for),
            ("organisations", organisations_for),
        )
    }
    tag_counts = care_group_counts(user)
    # A worker's few grids are listed; above a community there are hundreds (a county: 3 000),
    # so the home page lists the places one level down, each leading on to its grids.
    # One read for a worker's page (the page is opened all day); counting only above that.
    grids_seen = visible_nodes(user).filter(level=Level.GRID)
    my_grids = list(grids_seen.only("code", "name").order_by("path")[: HOME_GRIDS + 1])
    grid_count = len(my_grids)
    if grid_count > HOME_GRIDS and node is not None:
        grid_count = grids_seen.count()
        my_grids = list(
            visible_nodes(user).filter(parent=node).only("code", "name").order_by("path")[:60]
        )
    else:
        my_grids = my_grids[:HOME_GRIDS]
    roles = [Role(r).label for r in sorted(scope.roles)]
    case_counts = home_counts(user)
    # A grid worker's home page lists the first households to visit today (the whole list,
    # nearest first on request, is /visits/due/).
    today = timezone.localdate()
    grids = first_grids(user)
    due_preview = (
        grid_due_page_rows(user, grids[0], today=today, limit=HOME_DUE_ROWS)
        if len(grids) == 1
        else []
    )
    return render(
        request,
        "home.html",
        {
            "node": node,
            "counts": counts,
            "tag_counts": tag_counts,
            "my_grids": my_grids,
            "grid_count": grid_count,
            "areas_listed": grid_count > HOME_GRIDS and node is not None,
            "roles": roles,
            "case_counts": case_counts,
            "visit_totals": due_totals(user),
            "due_preview": due_preview,
            "today": today,
            "missing_year": workdays.arrangement_missing(today)
            if user.is_staff and user.has_perm("core.add_workdayoverride")
            else None,
        },
    )
