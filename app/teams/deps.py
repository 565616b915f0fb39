"""Dependencies that load a team the caller may act on, or answer 404/403 before the handler."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth.deps import StaffCaller
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import Forbidden, NotFound
from app.core.reads import Within
from app.teams import policies, service
from app.teams.policies import TeamAccess
from app.teams.schemas import TeamPublic

MISSING = service.MISSING


async def get_viewable_team(
    team_id: uuid.UUID, session: SessionDep, principal: StaffCaller
) -> TeamAccess:
    """404 unless the caller is on the team or administers a member's school."""
    access = await service.get_viewable(session, principal, team_id)
    if access is None:
        raise NotFound(MISSING)
    return access


ViewableTeam = Annotated[TeamAccess, Depends(get_viewable_team)]


async def get_team_view(team_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller) -> TeamPublic:
    """The team as the API shows it, if the caller may see it."""
    return await service.one_team(reads, caller, team_id)


TeamView = Annotated[TeamPublic, Depends(get_team_view)]


async def within_viewable_team(team_id: uuid.UUID, caller: StaffCaller) -> Within:
    """A team the caller must see for what belongs to it (its invitations) to be listed: its
    check goes with the page (`Reads.page(within=)`), which answers 404 for a team they do not
    see."""
    return Within(service.seen_statement(caller, team_id), MISSING)


WithinViewableTeam = Annotated[Within, Depends(within_viewable_team)]


async def get_editable_team(access: ViewableTeam, principal: StaffCaller) -> TeamAccess:
    if not policies.can_edit(principal, access):
        raise Forbidden("This team cannot be changed (deleted teams must be restored first)")
    return access


EditableTeam = Annotated[TeamAccess, Depends(get_editable_team)]


async def get_member_team(access: ViewableTeam, principal: StaffCaller) -> TeamAccess:
    """Content confidential to the team: members only (administrators get 403)."""
    if not policies.can_read_confidential(principal, access):
        raise Forbidden("Only the team's members can do this")
    return access


MemberTeam = Annotated[TeamAccess, Depends(get_member_team)]


async def get_membership_team(access: ViewableTeam, principal: StaffCaller) -> TeamAccess:
    """Who is on the team is the members' decision (administrators get 403)."""
    if not policies.can_manage_membership(principal, access):
        raise Forbidden("Only the team's members decide who is on it")
    return access


MembershipTeam = Annotated[TeamAccess, Depends(get_membership_team)]


async def get_admin_team(access: ViewableTeam, principal: StaffCaller) -> TeamAccess:
    if not policies.is_team_admin(principal, access):
        raise Forbidden("Only an administrator of a member's school can do this")
    return access


AdminTeam = Annotated[TeamAccess, Depends(get_admin_team)]
