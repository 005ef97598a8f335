"""服务组团 in the JSON API: read a block's team; the community office keeps it (accounts.teams).

A block outside the caller's sight answers 404 like one that does not exist.
"""

from django.http import Http404
from ninja import Router, Schema
from ninja.responses import Status as Reply
from pydantic import Field

from minqing.accounts import teams
from minqing.accounts.models import ServiceTeam, TeamMember
from minqing.api.schemas import ErrorOut, FieldErrorsOut, InSchema

router = Router(tags=["teams"])


class TeamMemberOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    responsibility: int
    responsibility_label: str
    duty: str
    office_phone: str
    mobile: str
    username: str | None


class TeamOut(Schema):
    id: int
    name: str
    node_code: str
    office_phone: str
    office_address: str
    members: list[TeamMemberOut]
    can_manage: bool


class TeamIn(InSchema):
    """Only the fields sent change; a block without a team gets one (a name is then required)."""

    name: str | None = Field(None, max_length=200)
    office_phone: str | None = Field(None, max_length=60)
    office_address: str | None = Field(None, max_length=400)


class TeamMemberIn(InSchema):
    """kind: committee 两委委员, staff 工作人员, volunteer 志愿者, building_leader 楼组长, mass_org
    群团负责人, serving_party 在职党员, retired_party 离退休党员, property 物业. responsibility: 0
    member, 1 第一责任人, 2 第二责任人. username: the member's account, if any."""

    name: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    responsibility: int = Field(0, ge=0, le=9)
    duty: str = Field("", max_length=200)
    office_phone: str = Field("", max_length=60)
    mobile: str = Field("", max_length=40)
    username: str = Field("", max_length=150)


class TeamMemberPatch(InSchema):
    """Only the fields sent change."""

    name: str | None = Field(None, max_length=100)
    kind: str | None = Field(None, max_length=20)
    responsibility: int | None = Field(None, ge=0, le=9)
    duty: str | None = Field(None, max_length=200)
    office_phone: str | None = Field(None, max_length=60)
    mobile: str | None = Field(None, max_length=40)
    username: str | None = Field(None, max_length=150)


def member_out(m: TeamMember) -> dict:
    return {
        "id": m.pk,
        "name": m.name,
        "kind": m.kind,
        "kind_label": str(m.get_kind_display()),
        "responsibility": m.responsibility,
        "responsibility_label": str(m.get_responsibility_display()),
        "duty": m.duty,
        "office_phone": m.office_phone,
        "mobile": m.mobile,
        "username": m.user.username if m.user_id else None,
    }


def team_out(user, node, team: ServiceTeam) -> dict:
    members = sorted(team.members.select_related("user"), key=lambda m: m.sort_key())
    return {
        "id": team.pk,
        "name": team.name,
        "node_code": node.code,
        "office_phone": team.office_phone,
        "office_address": team.office_address,
        "members": [member_out(m) for m in members],
        "can_manage": teams.can_manage_team(user, node),
    }


def _team(user, code: str):
    node, team = teams.team_for(user, code)
    if team is None:
        raise Http404
    return node, team


def _member(team: ServiceTeam, pk: int) -> TeamMember:
    member = team.members.filter(pk=pk).first() if 0 < pk < 2**62 else None
    if member is None:
        raise Http404
    return member


@router.get("/{code}", response={200: TeamOut, 404: ErrorOut}, summary="A block's service team")
def team_get(request, code: str):
    node, team = _team(request.user, code)
    return team_out(request.user, node, team)


@router.put(
    "/{code}",
    response={200: TeamOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Build a block's team or change its name and office (community office and above)",
)
def team_put(request, code: str, payload: TeamIn):
    node, _team_now = teams.team_for(request.user, code)
    data = payload.model_dump(exclude_unset=True)
    team = teams.team_save(acting_user=request.user, node=node, data=data, request=request)
    return team_out(request.user, node, team)


@router.post(
    "/{code}/members",
    response={201: TeamMemberOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Add a member to a block's team",
)
def member_create(request, code: str, payload: TeamMemberIn):
    _node, team = _team(request.user, code)
    member = teams.member_save(
        acting_user=request.user, team=team, data=payload.model_dump(), request=request
    )
    return Reply(201, member_out(member))


@router.patch(
    "/{code}/members/{int:pk}",
    response={200: TeamMemberOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Change a member (only the fields sent)",
)
def member_patch(request, code: str, pk: int, payload: TeamMemberPatch):
    _node, team = _team(request.user, code)
    member = teams.member_save(
        acting_user=request.user,
        team=team,
        member=_member(team, pk),
        data=payload.model_dump(exclude_unset=True),
        request=request,
    )
    return member_out(member)


@router.delete(
    "/{code}/members/{int:pk}",
    response={204: None, 403: ErrorOut, 404: ErrorOut},
    summary="Take a member off the team",
)
def member_delete(request, code: str, pk: int):
    _node, team = _team(request.user, code)
    teams.member_remove(acting_user=request.user, member=_member(team, pk), request=request)
    return Reply(204, None)
