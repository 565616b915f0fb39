import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth.deps import StaffCaller
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import error_responses
from app.core.pagination import Page, PageDep
from app.plans.models import PlanStatus
from app.teams import service
from app.teams.deps import (
    AdminTeam,
    EditableTeam,
    MembershipTeam,
    MemberTeam,
    TeamView,
    WithinViewableTeam,
)
from app.teams.schemas import (
    TeamContinue,
    TeamCreate,
    TeamInvitationCreate,
    TeamInvitationPublic,
    TeamPublic,
    TeamUpdate,
)

router = APIRouter(tags=["teams"])
invitations = APIRouter(prefix="/team-invitations", tags=["teams"])


@router.get("/teams", responses=error_responses(401, 403, 422))
async def list_teams(
    reads: ReadsDep,
    principal: StaffCaller,
    page: PageDep,
    school_year: Annotated[
        str | None, Query(pattern=r"^\d{4}-\d{4}$", examples=["2026-2027"])
    ] = None,
    focus_area_id: uuid.UUID | None = None,
    member_id: Annotated[uuid.UUID | None, Query(description="Teams this teacher is on")] = None,
    school_id: Annotated[uuid.UUID | None, Query(description="Teams with a member here")] = None,
    include_deleted: Annotated[
        bool, Query(description="Administrators: include deleted teams (to restore them)")
    ] = False,
    plan_status: Annotated[
        PlanStatus | None,
        Query(description="Teams whose action plan is in this state (`submitted`: to review)"),
    ] = None,
) -> Page[TeamPublic]:
    """Coaching teams the caller may see: teachers their own, school administrators those with
    a member in their schools, district administrators all. Newest school year first."""
    return await service.page_of_teams(
        reads,
        principal,
        page,
        school_year=school_year,
        focus_area_id=focus_area_id,
        member_id=member_id,
        school_id=school_id,
        include_deleted=include_deleted,
        plan_status=plan_status,
    )


@router.post("/teams", status_code=201, responses=error_responses(401, 403, 422))
async def create_team(body: TeamCreate, session: SessionDep, principal: StaffCaller) -> TeamPublic:
    """Form a coaching team (teachers). You are its first member; the colleagues in
    `invitee_ids` (teachers of your schools) are invited and join when they accept. The team's
    action plan starts as a draft. Administrators do not form teams or choose their members
    (403): membership is the teachers' decision, so no account an administrator controls can
    reach a team's confidential records."""
    team = await service.create(session, principal, body)
    return await service.to_public(session, team.id)


@router.post(
    "/teams/{team_id}/continue", status_code=201, responses=error_responses(401, 403, 404, 409, 422)
)
async def continue_team(
    access: MemberTeam, body: TeamContinue, session: SessionDep, principal: StaffCaller
) -> TeamPublic:
    """Carry the team into a later school year (members; once): a new team with the same
    focus area and learning target and a new draft plan. You are its first member; the other
    teachers of the team are invited and join when they accept. The earlier team keeps its
    records, read-only once its school year has ended (`continued_as_id` links the two)."""
    team = await service.continue_team(session, principal, access, body)
    return await service.to_public(session, team.id)


@router.get("/teams/{team_id}", responses=error_responses(401, 403, 404, 422))
async def get_team(team: TeamView) -> TeamPublic:
    """One team. 404 for callers who are neither on it nor administer a member's school."""
    return team


@router.patch("/teams/{team_id}", responses=error_responses(401, 403, 404, 422))
async def update_team(access: EditableTeam, body: TeamUpdate, session: SessionDep) -> TeamPublic:
    """Change the team's name, school year, focus area or learning target (members and
    administrators)."""
    team = await service.update(session, access.team, body)
    return await service.to_public(session, team.id)


@router.delete("/teams/{team_id}", status_code=204, responses=error_responses(401, 403, 404, 422))
async def delete_team(
    access: EditableTeam, session: SessionDep, principal: StaffCaller
) -> Response:
    """Delete a team. It is hidden, not erased: an administrator can restore it with
    everything the team wrote."""
    await service.soft_delete(session, principal, access.team)
    return Response(status_code=204)


@router.post("/teams/{team_id}/restore", responses=error_responses(401, 403, 404, 409, 422))
async def restore_team(access: AdminTeam, session: SessionDep) -> TeamPublic:
    """Bring back a deleted team (administrators of a member's school)."""
    team = await service.restore(session, access.team)
    return await service.to_public(session, team.id)


@router.delete(
    "/teams/{team_id}/members/{user_id}",
    status_code=204,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def remove_team_member(
    access: MembershipTeam, user_id: uuid.UUID, session: SessionDep
) -> Response:
    """Leave the team, or take a member off it (members only). A team keeps at least two
    teachers (409)."""
    await service.remove_member(session, access, user_id)
    return Response(status_code=204)


@router.post(
    "/teams/{team_id}/members/{user_id}/history-consent",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def consent_to_earlier_records(
    access: MembershipTeam, user_id: uuid.UUID, session: SessionDep, principal: StaffCaller
) -> TeamPublic:
    """Agree that a member who joined after you may read the team's confidential records
    written before they joined (observation and conference records, team reflections). They
    can once every member who was on the team before them has agreed; until then they read
    what was written from the day they joined (`sees_earlier_records` on the member)."""
    await service.consent_to_history(session, principal, access, user_id)
    return await service.to_public(session, access.team.id)


@router.post(
    "/teams/{team_id}/invitations",
    status_code=201,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def invite_to_team(
    access: MembershipTeam, body: TeamInvitationCreate, session: SessionDep,
    principal: StaffCaller,
) -> TeamInvitationPublic:  # fmt: skip
    """Invite a teacher of your schools to the team (members only); they join when they
    accept. One pending invitation per person (409)."""
    return await service.invite(session, principal, access, body)


@router.get("/teams/{team_id}/invitations", responses=error_responses(401, 403, 404, 422))
async def list_team_invitations(
    team_id: uuid.UUID, team: WithinViewableTeam, reads: ReadsDep, page: PageDep
) -> Page[TeamInvitationPublic]:
    """The team's invitations nobody has answered yet, oldest first."""
    query, values = service.invitations_query(team_id=team_id)
    return await reads.page(TeamInvitationPublic, query, page, values, within=team)


@router.delete(
    "/teams/{team_id}/invitations/{invitation_id}",
    status_code=204,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def revoke_team_invitation(
    access: MembershipTeam, invitation_id: uuid.UUID, session: SessionDep
) -> Response:
    """Withdraw an invitation nobody has answered yet (members only)."""
    await service.revoke_invitation(session, access, invitation_id)
    return Response(status_code=204)


@invitations.get("", responses=error_responses(401, 403, 422))
async def list_my_team_invitations(
    reads: ReadsDep, request: Request, page: PageDep, caller: StaffCaller
) -> Page[TeamInvitationPublic]:
    """Teams that invited you and are waiting for your answer, oldest first."""
    query, values = service.invitations_query(invitee_id=caller.staff.id)
    return await reads.page(TeamInvitationPublic, query, page, values)


@invitations.post("/{invitation_id}/accept", responses=error_responses(401, 403, 404, 409, 422))
async def accept_team_invitation(
    invitation_id: uuid.UUID, session: SessionDep, principal: StaffCaller,
) -> TeamPublic:  # fmt: skip
    """Join the team that invited you. You read its confidential records from now on; those
    written earlier once its members agree (founding invitations open everything)."""
    team_id = await service.answer_invitation(session, principal, invitation_id, accept=True)
    return await service.to_public(session, team_id)


@invitations.post(
    "/{invitation_id}/decline", status_code=204, responses=error_responses(401, 403, 404, 409, 422)
)
async def decline_team_invitation(
    invitation_id: uuid.UUID, session: SessionDep, principal: StaffCaller,
) -> Response:  # fmt: skip
    """Say no to an invitation."""
    await service.answer_invitation(session, principal, invitation_id, accept=False)
    return Response(status_code=204)
