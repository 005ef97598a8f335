from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minqing.accounts import teams
from minqing.accounts.access import can_audit, home_node, scope_queryset, visible_nodes
from minqing.accounts.forms import MemberForm, TeamForm
from minqing.accounts.models import ServiceTeam
from minqing.accounts.tokens import token_issue, token_withdraw
from minqing.core import audit
from minqing.core.admin import SECRET
from minqing.core.forms import NOT_SAVED, submitted
from minqing.core.models import AuditAction, AuditEntry
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
        _, raw = token_issue(user=request.user, name=name, request=request)
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
    token_withdraw(user=request.user, pk=pk, request=request)
    messages.success(request, _("令牌已作废。"))
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


# --- service teams (组团) kept in the app -----------------------------------------------------


@login_required
def team_page(request, code: str):
    """A block's team: its members by responsibility, and for the community office the forms
    that keep it (name and office, members in and out)."""
    node, team = teams.team_for(request.user, code)
    can_manage = teams.can_manage_team(request.user, node)
    if team is None and not can_manage:
        raise Http404
    posted = request.POST if request.method == "POST" else None
    if posted is not None and not can_manage:
        raise PermissionDenied(teams.ERR_NOT_ALLOWED)
    initial = (
        {"name": team.name, "office_phone": team.office_phone, "office_address": team.office_address}
        if team is not None
        else {"name": f"{node.name}服务组团"}
    )  # fmt: skip
    form = TeamForm(posted, initial=initial)
    saved = submitted(
        request,
        form,
        lambda: teams.team_save(
            acting_user=request.user, node=node, data=form.cleaned_data, request=request
        ),
    )
    if saved is not NOT_SAVED:
        messages.success(request, _("服务组团已保存。"))
        return redirect(f"/teams/{node.code}/")
    members = (
        sorted(team.members.select_related("user"), key=lambda m: m.sort_key()) if team else []
    )
    return render(
        request,
        "accounts/team.html",
        {
            "node": node,
            "team": team,
            "members": members,
            "form": form,
            "can_manage": can_manage,
        },
        status=400 if form.errors else 200,
    )


def _member_page(request, code: str, member_pk: int | None = None):
    node, team = teams.team_for(request.user, code)
    if team is None:
        raise Http404
    if not teams.can_manage_team(request.user, node):
        raise PermissionDenied(teams.ERR_NOT_ALLOWED)
    member = None
    initial = {}
    if member_pk is not None:
        member = team.members.select_related("user").filter(pk=member_pk).first()
        if member is None:
            raise Http404
        initial = {
            "name": member.name,
            "kind": member.kind,
            "responsibility": member.responsibility,
            "duty": member.duty,
            "office_phone": member.office_phone,
            "mobile": member.mobile,
            "username": member.user.username if member.user else "",
        }
    posted = request.POST if request.method == "POST" else None
    form = MemberForm(posted, initial=initial)
    saved = submitted(
        request,
        form,
        lambda: teams.member_save(
            acting_user=request.user,
            team=team,
            member=member,
            data=form.cleaned_data,
            request=request,
        ),
    )
    if saved is not NOT_SAVED:
        messages.success(request, _("组团成员已保存。"))
        return redirect(f"/teams/{node.code}/")
    return render(
        request,
        "accounts/team_member.html",
        {"node": node, "team": team, "member": member, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def team_member_new(request, code: str):
    return _member_page(request, code)


@login_required
def team_member_edit(request, code: str, member_pk: int):
    return _member_page(request, code, member_pk)


@login_required
@require_POST
def team_member_delete(request, code: str, member_pk: int):
    node, team = teams.team_for(request.user, code)
    member = team.members.filter(pk=member_pk).first() if team else None
    if member is None:
        raise Http404
    try:
        teams.member_remove(acting_user=request.user, member=member, request=request)
    except teams.PermissionDenied as exc:
        raise PermissionDenied(str(exc)) from None
    messages.success(request, _("已将 %(name)s 移出组团。") % {"name": member.name})
    return redirect(f"/teams/{node.code}/")


ERR_OLD_PASSWORD_TRIES = _("原密码输错次数过多，请 15 分钟后再试。")


class _PasswordChangeForm(PasswordChangeForm):
    """The old password is checked at most LOGIN_FAILURE_LIMIT times in 15 minutes per user:
    django-axes counts logins, not this form, and a stolen session could guess it slowly."""

    def clean_old_password(self):
        key = f"pwchange:{self.user.pk}"
        cache = caches["ratelimit"]
        tries = cache.get(key, 0)
        if tries >= settings.AXES_FAILURE_LIMIT:
            raise forms.ValidationError(ERR_OLD_PASSWORD_TRIES)
        try:
            return super().clean_old_password()
        except forms.ValidationError:
            cache.set(key, tries + 1, 15 * 60)
            raise


class PasswordChange(auth_views.PasswordChangeView):
    """Everyone changes their own password here (only an administrator could, in the admin:
    the first password handed out stayed in use). Audited, never the password itself; the
    user's API tokens are withdrawn with the old password (User.save)."""

    template_name = "form.html"
    success_url = "/"
    form_class = _PasswordChangeForm

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        for field in form.fields.values():  # the app's field style and a finger's height
            field.widget.attrs.setdefault("class", "input")
        return form

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"title": _("修改密码"), "cancel": "/"}

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.audit_log(actor=self.request.user, action=AuditAction.UPDATE, obj=self.request.user,
                  changes={"password": [SECRET, SECRET]}, request=self.request,
                  node=home_node(self.request.user))  # fmt: skip
        messages.success(self.request, _("密码已修改。API 令牌已一并作废，需要时请重新生成。"))
        return response
