"""The program's rules, locked for a change by a district administrator."""

from typing import Annotated

from fastapi import Depends

from app.auth.deps import DistrictAdmin
from app.core.deps import SessionDep
from app.core.errors import Forbidden
from app.program_rules import policies, service
from app.program_rules.models import ProgramRules


async def get_editable_rules(session: SessionDep, caller: DistrictAdmin) -> ProgramRules:
    """Locked until the change commits: two administrators' edits queue, then the second one's
    If-Match decides."""
    if not policies.can_edit(caller):  # DistrictAdmin said so already; the rule lives here
        raise Forbidden("District administrators change the program's rules")
    return await service.current(session, lock=True)


EditableRules = Annotated[ProgramRules, Depends(get_editable_rules)]
