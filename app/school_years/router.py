import uuid

from fastapi import APIRouter, Response

from app.auth.deps import DistrictAdmin, StaffCaller
from app.core.access import read_visible
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import Forbidden, error_responses
from app.core.etag import IfMatch, etag, require_current
from app.core.pagination import Page, PageDep
from app.school_years import policies, service
from app.school_years.deps import MISSING, EditableYear
from app.school_years.schemas import SchoolYearCreate, SchoolYearPublic, SchoolYearUpdate

router = APIRouter(prefix="/school-years", tags=["school years"])


@router.get("", responses=error_responses(401, 403, 422))
async def list_school_years(
    reads: ReadsDep, _caller: StaffCaller, page: PageDep
) -> Page[SchoolYearPublic]:
    """The district's school years, latest first, with the program's dates in each."""
    return await reads.page(SchoolYearPublic, service.LIST, page)


@router.get("/{school_year_id}", responses=error_responses(401, 403, 404, 422))
async def get_school_year(
    school_year_id: uuid.UUID, reads: ReadsDep, _caller: StaffCaller, response: Response
) -> SchoolYearPublic:
    """One school year. Carries an `ETag`."""
    stmt = service.one_statement(school_year_id)
    year = await read_visible(reads, SchoolYearPublic, stmt, missing=MISSING)
    response.headers["ETag"] = etag("school-year", year.version)
    return year


@router.post("", status_code=201, responses=error_responses(401, 403, 409, 422))
async def create_school_year(
    body: SchoolYearCreate, session: SessionDep, caller: DistrictAdmin, response: Response
) -> SchoolYearPublic:
    """Record a school year (district administrators): its label as teams name it, its first
    and last day, and the program's dates in it. A team's events must then fall inside its
    year (observations and year-end meetings inside their windows), and progress says what is
    due and overdue. `is_current: true` makes it the current year."""
    if not policies.can_edit(caller):
        raise Forbidden("District administrators record school years")
    year = await service.create(session, body)
    response.headers["ETag"] = etag("school-year", year.version)
    return SchoolYearPublic.model_validate(year)


@router.patch("/{school_year_id}", responses=error_responses(401, 403, 404, 409, 412, 422, 428))
async def update_school_year(
    year: EditableYear,
    body: SchoolYearUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> SchoolYearPublic:
    """Change a year's dates or make it current (district administrators; `If-Match`). Events
    already on the calendar stay; new and moved ones follow the new dates."""
    require_current(if_match, "school-year", year.version)
    year = await service.update_year(session, year, body)
    response.headers["ETag"] = etag("school-year", year.version)
    return SchoolYearPublic.model_validate(year)
