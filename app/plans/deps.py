"""A team's action plan, loaded for the caller who may see or change it (404/403 before the
handler runs)."""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select
from sqlmodel import col

from app.auth.deps import StaffCaller
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import NotFound
from app.core.reads import Within
from app.plans import service
from app.plans.models import ActionPlan
from app.plans.schemas import PlanPublic
from app.teams import service as team_service
from app.teams.deps import MISSING as TEAM_MISSING
from app.teams.deps import AdminTeam, MemberTeam, ViewableTeam
from app.teams.policies import TeamAccess

NO_PLAN = "This team has no action plan"


@dataclass
class PlanAccess:
    plan: ActionPlan
    team: TeamAccess


async def _plan_of(
    session: SessionDep, access: TeamAccess, *, deleted_too: bool = False, lock: bool = False
) -> PlanAccess:
    stmt = select(ActionPlan).where(col(ActionPlan.team_id) == access.team.id)
    if not deleted_too:
        stmt = stmt.where(col(ActionPlan.deleted_at).is_(None))
    if lock:
        stmt = stmt.with_for_update()
    plan = (await session.execute(stmt)).scalar_one_or_none()
    if plan is None:
        raise NotFound(NO_PLAN)
    return PlanAccess(plan, access)


async def get_plan_view(team_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller) -> PlanPublic:
    """The live plan of a team the caller sees, read with the team in one statement."""
    found = await reads.one(service.PlanOfTeam, service.plan_of_team_statement(caller, team_id))
    if found is None:
        raise NotFound(TEAM_MISSING)
    if found.plan is None:
        raise NotFound(NO_PLAN)
    return found.plan


PlanView = Annotated[PlanPublic, Depends(get_plan_view)]


async def within_viewable_plan(team_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller) -> Within:
    """The live plan of a team the caller sees, for what belongs to it (its history) to be
    listed: the team's check goes with the page (`Reads.page(within=)`); an empty page is
    explained as `PlanView` is (404 for a team they do not see, or one without a plan)."""
    return Within(
        team_service.seen_statement(caller, team_id),
        TEAM_MISSING,
        explain=lambda: get_plan_view(team_id, reads, caller),
    )


WithinViewablePlan = Annotated[Within, Depends(within_viewable_plan)]


async def get_changing_plan(access: ViewableTeam, session: SessionDep) -> PlanAccess:
    """For a move of the workflow (who may make it is decided per move: plans.policies)."""
    return await _plan_of(session, access, lock=True)


ChangingPlan = Annotated[PlanAccess, Depends(get_changing_plan)]


async def get_member_plan(access: MemberTeam, session: SessionDep) -> PlanAccess:
    """Editing and deleting: the team's members (administrators get 403)."""
    return await _plan_of(session, access, lock=True)


MemberPlan = Annotated[PlanAccess, Depends(get_member_plan)]


async def get_restorable_plan(access: AdminTeam, session: SessionDep) -> PlanAccess:
    return await _plan_of(session, access, deleted_too=True, lock=True)


RestorablePlan = Annotated[PlanAccess, Depends(get_restorable_plan)]
