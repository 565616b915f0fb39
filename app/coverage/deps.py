"""Coverage requests the caller may see or act on, or 404/403 before the handler runs."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth.deps import StaffCaller
from app.auth.principal import caller_values
from app.core.access import load_visible
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import Forbidden, NotFound, Unprocessable
from app.coverage import policies, service
from app.coverage.models import CoverageRequest
from app.coverage.schemas import CoverageArrangeMany, CoverageRequestPublic

MISSING = "No such coverage request"


async def get_request_view(
    request_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller
) -> CoverageRequestPublic:
    """The request as the API shows it: the list's statement plus the id."""
    found = await reads.one(CoverageRequestPublic, service.one_statement(caller, request_id))
    if found is None:
        raise NotFound(MISSING)
    return found


CoverageRequestView = Annotated[CoverageRequestPublic, Depends(get_request_view)]


async def get_changeable_request(
    request_id: uuid.UUID, session: SessionDep, caller: StaffCaller
) -> CoverageRequest:
    """Locked until the change commits: a parallel decision or withdrawal waits, then sees it."""
    return await load_visible(
        session,
        CoverageRequest,
        request_id,
        policies.readable(caller),
        missing=MISSING,
        lock=True,
        params=caller_values(caller),
    )


ChangeableRequest = Annotated[CoverageRequest, Depends(get_changeable_request)]


async def get_decidable_request(found: ChangeableRequest, caller: StaffCaller) -> CoverageRequest:
    if not policies.can_decide(caller, found):
        raise Forbidden("Only an administrator of the school arranges coverage")
    return found


DecidableRequest = Annotated[CoverageRequest, Depends(get_decidable_request)]


async def get_withdrawable_request(
    found: ChangeableRequest, caller: StaffCaller
) -> CoverageRequest:
    if not policies.can_withdraw(caller, found):
        raise Forbidden("Only the requester withdraws a coverage request")
    return found


WithdrawableRequest = Annotated[CoverageRequest, Depends(get_withdrawable_request)]


async def get_decidable_requests(
    body: CoverageArrangeMany, session: SessionDep, caller: StaffCaller
) -> list[CoverageRequest]:
    """Each request of a bulk decision, as `DecidableRequest` finds one (locked in id order, so
    two overlapping bulk decisions queue rather than deadlock); an id the caller cannot see is
    a 422 naming it."""
    found = []
    for request_id in sorted(set(body.request_ids), key=str):
        try:
            request = await get_changeable_request(request_id, session, caller)
        except NotFound as exc:
            raise Unprocessable.for_field(
                "request_ids", f"no such coverage request {request_id}", "unknown"
            ) from exc
        found.append(await get_decidable_request(request, caller))
    return found


DecidableRequests = Annotated[list[CoverageRequest], Depends(get_decidable_requests)]
