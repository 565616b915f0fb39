from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.auth.deps import DistrictAdmin, StaffOrReadKey
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import error_responses
from app.core.pagination import Page, PageDep
from app.schools import service
from app.schools.deps import ChangeableSchool, SchoolView
from app.schools.schemas import SchoolCreate, SchoolPublic, SchoolUpdate

router = APIRouter(prefix="/schools", tags=["schools"])


@router.get("", responses=error_responses(401, 403, 422))
async def list_schools(
    request: Request,
    reads: ReadsDep,
    _caller: StaffOrReadKey,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200, description="Name contains (any case)")] = None,
) -> Page[SchoolPublic]:
    """The district's schools, ordered by name. Every signed-in staff member may list them."""
    query, values = service.list_query(q)
    return await reads.page(SchoolPublic, query, page, values)


@router.post("", status_code=201, responses=error_responses(401, 403, 409, 422))
async def create_school(
    body: SchoolCreate, session: SessionDep, _caller: DistrictAdmin
) -> SchoolPublic:
    """Add a school (district administrators). Names and roster ids are unique."""
    return SchoolPublic.model_validate(await service.create(session, body))


@router.get("/{school_id}", responses=error_responses(401, 403, 404, 422))
async def get_school(school: SchoolView) -> SchoolPublic:
    """One school."""
    return school


@router.patch("/{school_id}", responses=error_responses(401, 403, 404, 409, 422))
async def update_school(
    school: ChangeableSchool, body: SchoolUpdate, session: SessionDep
) -> SchoolPublic:
    """Rename a school, change its time zone or roster id (district administrators)."""
    return SchoolPublic.model_validate(await service.update(session, school, body))
