import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.auth.deps import StaffCaller
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import error_responses
from app.core.pagination import Page, PageDep
from app.coverage import service
from app.coverage.deps import (
    CoverageRequestView,
    DecidableRequest,
    DecidableRequests,
    WithdrawableRequest,
)
from app.coverage.models import CoverageStatus
from app.coverage.schemas import (
    CoverageArrange,
    CoverageArrangeMany,
    CoverageDecline,
    CoverageRequestCreate,
    CoverageRequestPublic,
)

router = APIRouter(prefix="/coverage-requests", tags=["coverage"])
# One substitute for several requests: its own path, so that no request id could read as it.
arrangements_router = APIRouter(prefix="/coverage-arrangements", tags=["coverage"])


@router.get("", responses=error_responses(401, 403, 422))
async def list_coverage_requests(
    request: Request,
    reads: ReadsDep,
    principal: StaffCaller,
    page: PageDep,
    status: CoverageStatus | None = None,
    school_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    needs_attention: Annotated[
        bool,
        Query(
            description="Only what an administrator still has to decide: pending or needing "
            "review, for an observation ahead that is still on"
        ),
    ] = False,
) -> Page[CoverageRequestPublic]:
    """Coverage requests ordered by the observation's date, each with its observation's status,
    time and place. Administrators see their schools' (`needs_attention=true` for the to-do
    list); teachers see their own and their teams'."""
    query, values = service.list_query(
        principal,
        status=status,
        school_id=school_id,
        team_id=team_id,
        needs_attention=needs_attention,
    )
    return await reads.page(CoverageRequestPublic, query, page, values)


@router.post("", status_code=201, responses=error_responses(401, 403, 409, 422))
async def create_coverage_request(
    body: CoverageRequestCreate,
    session: SessionDep,
    principal: StaffCaller,
) -> CoverageRequestPublic:
    """Ask for a substitute to cover your class during an observation you take part in."""
    return await service.create(session, principal, body)


@router.get("/{request_id}", responses=error_responses(401, 403, 404, 422))
async def get_coverage_request(found: CoverageRequestView) -> CoverageRequestPublic:
    """One coverage request and its outcome."""
    return found


@arrangements_router.post("", responses=error_responses(401, 403, 409, 422))
async def arrange_coverage_together(
    found: DecidableRequests, body: CoverageArrangeMany, session: SessionDep, caller: StaffCaller
) -> list[CoverageRequestPublic]:
    """One substitute covers several requests (say, three short observations on one day): all
    are arranged or, if any cannot be (decided already, observation cancelled or started), none
    is, and the answer says which."""
    return await service.arrange_many(session, caller, found, body)


@router.post("/{request_id}/arrange", responses=error_responses(401, 403, 404, 409, 422))
async def arrange_coverage(
    found: DecidableRequest, body: CoverageArrange, session: SessionDep, caller: StaffCaller
) -> CoverageRequestPublic:
    """Arrange a pending request (or confirm one needing review after its observation moved),
    saying who covers (administrators of the school). 409 if the observation was cancelled,
    deleted or has started."""
    return await service.arrange(session, caller, found, body)


@router.post("/{request_id}/decline", responses=error_responses(401, 403, 404, 409, 422))
async def decline_coverage(
    found: DecidableRequest, body: CoverageDecline, session: SessionDep, caller: StaffCaller
) -> CoverageRequestPublic:
    """Decline a pending request (or one needing review) with a reason the teacher will see."""
    return await service.decline(session, caller, found, body)


@router.post("/{request_id}/cancel", responses=error_responses(401, 403, 404, 409, 422))
async def cancel_coverage_request(
    found: WithdrawableRequest, session: SessionDep, caller: StaffCaller
) -> CoverageRequestPublic:
    """Withdraw your request (pending or arranged)."""
    return await service.cancel(session, caller, found)
