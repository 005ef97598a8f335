from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from minqing.accounts.access import home_node, user_scope, visible_nodes
from minqing.accounts.models import Role
from minqing.cases.selectors import home_counts
from minqing.grids.models import Level
from minqing.registry.selectors import (
    care_group_counts,
    households_for,
    organisations_for,
    people_for,
    places_for,
)
from minqing.visits.selectors import due_totals


@require_GET
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@login_required
def home(request):
    user = request.user
    scope = user_scope(user)
    node = home_node(user)
    people = people_for(user)
    counts = {
        "households": households_for(user).count(),
        "people": people.count(),
        "places": places_for(user).count(),
        "organisations": organisations_for(user).count(),
    }
    tag_counts = care_group_counts(user)
    my_grids = visible_nodes(user).filter(level=Level.GRID).order_by("path")[:60]
    roles = [Role(r).label for r in sorted(scope.roles)]
    case_counts = home_counts(user)
    return render(
        request,
        "home.html",
        {
            "node": node,
            "counts": counts,
            "tag_counts": tag_counts,
            "my_grids": my_grids,
            "roles": roles,
            "case_counts": case_counts,
            "visit_totals": due_totals(user),
        },
    )
