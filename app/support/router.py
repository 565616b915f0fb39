import uuid

from fastapi import APIRouter, Request

from app.auth.deps import StaffCaller
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import error_responses
from app.core.pagination import Page, PageDep
from app.support import service
from app.support.deps import (
    AnswerableSupportRequest,
    ChangeableSupportRequest,
    SupportRequestView,
)
from app.support.models import SupportStatus
from app.support.schemas import SupportAnswer, SupportRequestCreate, SupportRequestPublic

router = APIRouter(prefix="/support-requests", tags=["support"])


@router.get("", responses=error_responses(401, 403, 422))
async def list_support_requests(
    request: Request,
    reads: ReadsDep,
    principal: StaffCaller,
    page: PageDep,
    status: SupportStatus | None = None,
    school_id: uuid.UUID | None = None,
) -> Page[SupportRequestPublic]:
    """Requests for direction, resources or support, oldest first: teachers see their own,
    administrators their schools'."""
    query, values = service.list_query(principal, status, school_id)
    return await reads.page(SupportRequestPublic, query, page, values)


@router.post("", status_code=201, responses=error_responses(401, 403, 422))
async def create_support_request(
    body: SupportRequestCreate, session: SessionDep, principal: StaffCaller
) -> SupportRequestPublic:
    """Ask your school's administrators for direction, resources or support."""
    return SupportRequestPublic.model_validate(await service.create(session, principal, body))


@router.get("/{request_id}", responses=error_responses(401, 403, 404, 422))
async def get_support_request(found: SupportRequestView) -> SupportRequestPublic:
    """One request and its answer."""
    return found


@router.post("/{request_id}/answer", responses=error_responses(401, 403, 404, 409, 422))
async def answer_support_request(
    found: AnswerableSupportRequest, body: SupportAnswer, session: SessionDep, caller: StaffCaller
) -> SupportRequestPublic:
    """Answer a request (administrators of its school); answering again replaces the answer."""
    return SupportRequestPublic.model_validate(await service.answer(session, caller, found, body))


@router.post("/{request_id}/close", responses=error_responses(401, 403, 404, 409, 422))
async def close_support_request(
    found: ChangeableSupportRequest, session: SessionDep
) -> SupportRequestPublic:
    """Close a request (its author or an administrator who can see it)."""
    return SupportRequestPublic.model_validate(await service.close(session, found))
