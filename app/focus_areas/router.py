from fastapi import APIRouter, Request

from app.auth.deps import DistrictAdmin, StaffOrReadKey
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import error_responses
from app.core.pagination import Page, PageDep
from app.focus_areas import service
from app.focus_areas.deps import EditableFocusArea
from app.focus_areas.schemas import FocusAreaCreate, FocusAreaPublic, FocusAreaUpdate

router = APIRouter(prefix="/focus-areas", tags=["focus areas"])


@router.get("", responses=error_responses(401, 403, 422))
async def list_focus_areas(
    request: Request,
    reads: ReadsDep,
    _caller: StaffOrReadKey,
    page: PageDep,
    include_inactive: bool = False,
) -> Page[FocusAreaPublic]:
    """The focus-area catalog (seeded with the program's suggestions), ordered by name."""
    return await reads.page(FocusAreaPublic, service.list_query(include_inactive), page)


@router.post("", status_code=201, responses=error_responses(401, 403, 409, 422))
async def create_focus_area(
    body: FocusAreaCreate, session: SessionDep, _caller: DistrictAdmin
) -> FocusAreaPublic:
    """Add a focus area to the catalog (district administrators)."""
    return FocusAreaPublic.model_validate(await service.create(session, body))


@router.patch("/{focus_area_id}", responses=error_responses(401, 403, 404, 409, 422))
async def update_focus_area(
    area: EditableFocusArea, body: FocusAreaUpdate, session: SessionDep
) -> FocusAreaPublic:
    """Rename, describe or retire (`is_active: false`) a focus area. Teams keep theirs."""
    return FocusAreaPublic.model_validate(await service.update(session, area, body))
