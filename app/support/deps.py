"""Support requests the caller may act on, or 404/403 before the handler runs."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth.deps import StaffCaller
from app.auth.principal import caller_values
from app.core.access import load_visible, read_visible
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import Forbidden
from app.support import policies, service
from app.support.models import SupportRequest
from app.support.schemas import SupportRequestPublic

MISSING = "No such support request"


async def get_request_view(
    request_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller
) -> SupportRequestPublic:
    one = service.one_statement(caller, request_id)
    return await read_visible(reads, SupportRequestPublic, one, missing=MISSING)


SupportRequestView = Annotated[SupportRequestPublic, Depends(get_request_view)]


async def get_changeable_request(
    request_id: uuid.UUID, session: SessionDep, caller: StaffCaller
) -> SupportRequest:
    """Locked until the change commits."""
    return await load_visible(
        session,
        SupportRequest,
        request_id,
        policies.readable(caller),
        missing=MISSING,
        lock=True,
        params=caller_values(caller),
    )


ChangeableSupportRequest = Annotated[SupportRequest, Depends(get_changeable_request)]


async def get_answerable_request(
    found: ChangeableSupportRequest, caller: StaffCaller
) -> SupportRequest:
    if not policies.can_answer(caller, found):
        raise Forbidden("Only an administrator of the school answers")
    return found


AnswerableSupportRequest = Annotated[SupportRequest, Depends(get_answerable_request)]
