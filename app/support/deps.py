"""Support requests the caller may act on, or 404/403 before the handler runs."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth.deps import StaffCaller
from app.core.access import load_visible
from app.core.deps import SessionDep
from app.core.errors import Forbidden
from app.support import policies
from app.support.models import SupportRequest

MISSING = "No such support request"


async def get_readable_request(
    request_id: uuid.UUID, session: SessionDep, caller: StaffCaller
) -> SupportRequest:
    return await load_visible(
        session, SupportRequest, request_id, policies.readable(caller), missing=MISSING
    )


ReadableSupportRequest = Annotated[SupportRequest, Depends(get_readable_request)]


async def get_changeable_request(
    request_id: uuid.UUID, session: SessionDep, caller: StaffCaller
) -> SupportRequest:
    """Locked until the change commits."""
    return await load_visible(
        session, SupportRequest, request_id, policies.readable(caller), missing=MISSING, lock=True
    )


ChangeableSupportRequest = Annotated[SupportRequest, Depends(get_changeable_request)]


async def get_answerable_request(
    found: ChangeableSupportRequest, caller: StaffCaller
) -> SupportRequest:
    if not policies.can_answer(caller, found):
        raise Forbidden("Only an administrator of the school answers")
    return found


AnswerableSupportRequest = Annotated[SupportRequest, Depends(get_answerable_request)]
