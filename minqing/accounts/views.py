from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from minqing.accounts.access import can_audit, scope_queryset, visible_nodes
from minqing.accounts.models import ApiToken, ServiceTeam
from minqing.core.models import AuditEntry
from minqing.core.paging import page_of, querystring_without_page


@login_required
def team_card(request, code: str):
    """A printable contact card of a block's service team, to hand to its residents."""
    node = visible_nodes(request.user).filter(code=code).first()
    team = ServiceTeam.objects.filter(node=node).first() if node else None
    if team is None:
        raise Http404
    members = sorted(team.members.all(), key=lambda m: m.sort_key())
    return render(
        request, "accounts/team_card.html", {"team": team, "node": node, "members": members}
    )


@login_required
def tokens(request):
    raw = None
    if request.method == "POST":
        name = request.POST.get("name", "").strip()[:100] or "API"
        _, raw = ApiToken.issue(user=request.user, name=name)
    return render(
        request,
        "accounts/tokens.html",
        {
            "tokens": request.user.api_tokens.order_by("-created_at"),
            "raw": raw,
        },
    )


@login_required
@require_POST
def token_delete(request, pk: int):
    request.user.api_tokens.filter(pk=pk).delete()
    messages.success(request, "令牌已作废。")
    return redirect("/accounts/tokens/")


@login_required
def audit_log(request):
    if not can_audit(request.user):
        raise PermissionDenied
    qs = scope_queryset(
        request.user,
        AuditEntry.objects.select_related("actor"),
        node_field="node",
        owner_fields=("actor",),
    )
    action = request.GET.get("action", "")
    if action:
        qs = qs.filter(action=action)
    who = request.GET.get("who", "").strip()
    if who:
        qs = qs.filter(actor__username=who)
    page = page_of(request, qs, per_page=50)
    return render(
        request,
        "accounts/audit_log.html",
        {
            "page": page,
            "qs_no_page": querystring_without_page(request),
            "action": action,
            "who": who,
            "actions": AuditEntry._meta.get_field("action").choices,
        },
    )
