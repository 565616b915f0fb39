import uuid

from fastapi import APIRouter, Response

from app.auth.deps import StaffCaller
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import error_responses
from app.core.etag import IfMatch, etag, require_current
from app.core.pagination import Page, PageDep
from app.plans import service
from app.plans.deps import ChangingPlan, MemberPlan, PlanView, RestorablePlan, WithinViewablePlan
from app.plans.models import ActionPlan
from app.plans.schemas import PlanPublic, PlanTransitionCreate, PlanTransitionPublic, PlanUpdate

router = APIRouter(prefix="/teams/{team_id}/plan", tags=["plans"])


def _answer(plan: ActionPlan, response: Response) -> PlanPublic:
    response.headers["ETag"] = etag("plan", plan.version)
    return PlanPublic.model_validate(plan)


@router.get("", responses=error_responses(401, 403, 404, 422))
async def get_plan(plan: PlanView, response: Response) -> PlanPublic:
    """The team's action plan, with its pre-conference summary and review status. Visible to
    the team and to administrators of the members' schools. Carries an `ETag`."""
    response.headers["ETag"] = etag("plan", plan.version)
    return plan


@router.patch("", responses=error_responses(401, 403, 404, 409, 412, 422, 428))
async def update_plan(
    found: MemberPlan,
    body: PlanUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> PlanPublic:
    """Edit the plan (team members, while it is a draft or returned). Send the `ETag` you read
    as `If-Match`: if a teammate saved first, the answer is 412 and nothing changes."""
    require_current(if_match, "plan", found.plan.version)
    return _answer(await service.update(session, found.plan, body), response)


@router.post("/transitions", responses=error_responses(401, 403, 404, 409, 412, 422, 428))
async def transition_plan(
    found: ChangingPlan,
    body: PlanTransitionCreate,
    session: SessionDep,
    principal: StaffCaller,
    response: Response,
    if_match: IfMatch = None,
) -> PlanPublic:
    """Move the plan through its review: members `submit` a draft or returned plan; an
    administrator of a member's school `approve`s it or `return`s it with a comment, and marks
    it `complete` at year end. Any other move answers 409."""
    plan = await service.transition(session, principal, found.team, found.plan, body, if_match)
    return _answer(plan, response)


@router.delete("", status_code=204, responses=error_responses(401, 403, 404, 412, 422, 428))
async def delete_plan(found: MemberPlan, session: SessionDep, if_match: IfMatch = None) -> Response:
    """Delete the plan (team members; send its `ETag` as `If-Match`). It is hidden, not erased:
    an administrator of a member's school can restore it with its history."""
    require_current(if_match, "plan", found.plan.version)
    await service.soft_delete(session, found.plan)
    return Response(status_code=204)


@router.post("/restore", responses=error_responses(401, 403, 404, 409, 422))
async def restore_plan(
    found: RestorablePlan, session: SessionDep, response: Response
) -> PlanPublic:
    """Bring back a deleted plan (administrators of a member's school)."""
    return _answer(await service.restore(session, found.plan), response)


@router.get("/transitions", responses=error_responses(401, 403, 404, 422))
async def list_plan_transitions(
    team_id: uuid.UUID, plan: WithinViewablePlan, reads: ReadsDep, page: PageDep
) -> Page[PlanTransitionPublic]:
    """The plan's history: every status change with who made it, when, and their comment."""
    query, values = service.transitions_query(team_id)
    return await reads.page(PlanTransitionPublic, query, page, values, within=plan)
