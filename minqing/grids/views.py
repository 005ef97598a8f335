from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render

from minqing.accounts import teams
from minqing.accounts.access import node_visible, visible_nodes
from minqing.grids.models import Level, Node
from minqing.grids.selectors import node_counts, top_nodes


def _node_or_404(user, code: str) -> Node:
    node = visible_nodes(user).filter(code=code).first()
    if node is None:
        raise Http404
    return node


@login_required
def tree(request):
    return render(request, "grids/tree.html", {"nodes": top_nodes(request.user)})


@login_required
def node_detail(request, code: str):
    node = _node_or_404(request.user, code)
    visible = visible_nodes(request.user)
    children = visible.filter(parent=node).order_by("sort", "code")
    # Ancestors outside the user's scope are named, not linked (their page is 404 for them).
    ancestors = [(a, node_visible(request.user, a)) for a in node.ancestors()]
    team = getattr(node, "service_team", None) if node.level >= Level.ZONE else None
    return render(
        request,
        "grids/node.html",
        {
            "node": node,
            "children": children,
            "ancestors": ancestors,
            "counts": node_counts(request.user, node),
            "team": team,
            "can_manage_team": node.level in teams.TEAM_LEVELS
            and teams.can_manage_team(request.user, node),
            "has_map": node.boundary is not None
            or children.filter(boundary__isnull=False).exists(),
            "Level": Level,
        },
    )


@login_required
def node_geojson(request, code: str):
    """The node's own boundary and its children's, as one FeatureCollection for Leaflet."""
    node = _node_or_404(request.user, code)
    features = []
    for n in [node, *visible_nodes(request.user).filter(parent=node, boundary__isnull=False)]:
        if not n.boundary:
            continue
        geometry = n.boundary.get("geometry", n.boundary) if isinstance(n.boundary, dict) else None
        if not geometry:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "id": n.pk,
                    "code": n.code,
                    "name": n.name,
                    "level": n.level,
                    "self": n.pk == node.pk,
                },
            }
        )
    return JsonResponse({"type": "FeatureCollection", "features": features})
