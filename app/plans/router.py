from fastapi import APIRouter, Request, Response

from app.auth.deps import StaffCaller
from app.core.deps import ReaderDep, SessionDep
from app.core.errors import error_responses
from app.core.etag import IfMatch, check_if_match, etag
from app.core.pagination import Page, PageDep, paginate
from app.plans import service
from app.plans.models import ActionPlan
from app.plans.schemas import PlanPublic, PlanTransitionCreate, PlanTransitionPublic, PlanUpdate
from app.teams.deps import AdminTeam, MemberTeam, ViewableTeam

router = APIRouter(prefix="/teams/{team_id}/plan", tags=["plans"])


def _answer(plan: ActionPlan, response: Response) -> PlanPublic:
    response.headers["ETag"] = etag("plan", plan.version)
    return PlanPublic.model_validate(plan)


@router.get("", responses=error_responses(401, 403, 404, 422))
async def get_plan(access: ViewableTeam, session: SessionDep, response: Response) -> PlanPublic:
    """The team's action plan, with its pre-conference summary and review status. Visible to
    the team and to administrators of the members' schools. Carries an `ETag`."""
    return _answer(await service.get_for_team(session, access), response)


@router.patch("", responses=error_responses(401, 403, 404, 409, 412, 422))
async def update_plan(
    access: MemberTeam,
    body: PlanUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> PlanPublic:
    """Edit the plan (team members, while it is a draft or returned). Send the `ETag` you read
    as `If-Match`: if a teammate saved first, the answer is 412 and nothing changes."""
    plan = await service.get_for_team(session, access)
    check_if_match(if_match, etag("plan", plan.version))
    return _answer(await service.update(session, plan, body), response)


@router.post("/transitions", responses=error_responses(401, 403, 404, 409, 412, 422))
async def transition_plan(
    access: ViewableTeam,
    body: PlanTransitionCreate,
    session: SessionDep,
    principal: StaffCaller,
    response: Response,
    if_match: IfMatch = None,
) -> PlanPublic:
    """Move the plan through its review: members `submit` a draft or returned plan; an
    administrator of a member's school `approve`s it or `return`s it with a comment, and marks
    it `complete` at year end. Any other move answers 409."""
    plan = await service.get_for_team(session, access)
    check_if_match(if_match, etag("plan", plan.version))
    return _answer(await service.transition(session, principal, access, plan, body), response)


@router.delete("", status_code=204, responses=error_responses(401, 403, 404, 422))
async def delete_plan(access: MemberTeam, session: SessionDep) -> Response:
    """Delete the plan (team members). It is hidden, not erased: an administrator of a member's
    school can restore it with its history."""
    await service.soft_delete(session, await service.get_for_team(session, access))
    return Response(status_code=204)


@router.post("/restore", responses=error_responses(401, 403, 404, 409, 422))
async def restore_plan(access: AdminTeam, session: SessionDep, response: Response) -> PlanPublic:
    """Bring back a deleted plan (administrators of a member's school)."""
    plan = await service.get_for_team(session, access, include_deleted=True)
    return _answer(await service.restore(session, plan), response)


@router.get("/transitions", responses=error_responses(401, 403, 404, 422))
async def list_plan_transitions(
    access: ViewableTeam,
    session: SessionDep,
    reads: ReaderDep,
    request: Request,
    page: PageDep,
) -> Page[PlanTransitionPublic]:
    """The plan's history: every status change with who made it, when, and their comment."""
    plan = await service.get_for_team(session, access)
    stmt = service.transitions_statement(plan)
    return await paginate(reads, stmt, page, request, Page[PlanTransitionPublic])
