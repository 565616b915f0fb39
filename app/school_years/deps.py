"""A school year, loaded for a district administrator's change (404 before the handler runs)."""

import uuid
from typing import Annotated

from fastapi import Depends
from sqlalchemy import true

from app.auth.deps import DistrictAdmin
from app.core.access import load_visible
from app.core.deps import SessionDep
from app.core.errors import Forbidden
from app.school_years import policies
from app.school_years.models import SchoolYear

MISSING = "No such school year"


async def get_editable_year(
    school_year_id: uuid.UUID, session: SessionDep, caller: DistrictAdmin
) -> SchoolYear:
    if not policies.can_edit(caller):  # DistrictAdmin said so already; the rule lives here
        raise Forbidden("District administrators record school years")
    return await load_visible(
        session, SchoolYear, school_year_id, true(), missing=MISSING, lock=True
    )


EditableYear = Annotated[SchoolYear, Depends(get_editable_year)]
