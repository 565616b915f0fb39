"""Schools the caller may read or change, or 404 before the handler runs."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth.deps import DistrictAdmin, StaffOrReadKey
from app.core.access import load_visible
from app.core.deps import SessionDep
from app.schools import policies
from app.schools.models import School

MISSING = "No such school"


async def get_readable_school(
    school_id: uuid.UUID, session: SessionDep, caller: StaffOrReadKey
) -> School:
    return await load_visible(
        session, School, school_id, policies.readable(caller), missing=MISSING
    )


ReadableSchool = Annotated[School, Depends(get_readable_school)]


async def get_changeable_school(
    school_id: uuid.UUID, session: SessionDep, caller: DistrictAdmin
) -> School:
    return await load_visible(
        session, School, school_id, policies.readable(caller), missing=MISSING, lock=True
    )


ChangeableSchool = Annotated[School, Depends(get_changeable_school)]
