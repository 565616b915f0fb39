"""Schools the caller may read or change, or 404 before the handler runs."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth.deps import DistrictAdmin, StaffOrReadKey
from app.core.access import load_visible, read_visible
from app.core.deps import ReadsDep, SessionDep
from app.schools import policies, service
from app.schools.models import School
from app.schools.schemas import SchoolPublic

MISSING = "No such school"


async def get_school_view(
    school_id: uuid.UUID, reads: ReadsDep, caller: StaffOrReadKey
) -> SchoolPublic:
    one = service.one_statement(caller, school_id)
    return await read_visible(reads, SchoolPublic, one, missing=MISSING)


SchoolView = Annotated[SchoolPublic, Depends(get_school_view)]


async def get_changeable_school(
    school_id: uuid.UUID, session: SessionDep, caller: DistrictAdmin
) -> School:
    return await load_visible(
        session, School, school_id, policies.readable(caller), missing=MISSING, lock=True
    )


ChangeableSchool = Annotated[School, Depends(get_changeable_school)]
