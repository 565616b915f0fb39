"""Focus areas a district administrator may change, or 404 before the handler runs."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth.deps import DistrictAdmin
from app.core.access import load_visible
from app.core.deps import SessionDep
from app.focus_areas import policies
from app.focus_areas.models import FocusArea


async def get_editable_focus_area(
    focus_area_id: uuid.UUID, session: SessionDep, caller: DistrictAdmin
) -> FocusArea:
    return await load_visible(
        session,
        FocusArea,
        focus_area_id,
        policies.readable(caller),
        missing="No such focus area",
        lock=True,
    )


EditableFocusArea = Annotated[FocusArea, Depends(get_editable_focus_area)]
