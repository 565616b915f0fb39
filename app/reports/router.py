import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.auth.deps import Admin
from app.core.deps import ReadsDep
from app.core.errors import error_responses
from app.core.pagination import Page, PageDep
from app.reports import service
from app.reports.schemas import YearEndRow

router = APIRouter(prefix="/reports", tags=["reports"])

SchoolYearFilter = Annotated[str | None, Query(pattern=r"^\d{4}-\d{4}$", examples=["2026-2027"])]
SchoolFilter = Annotated[uuid.UUID | None, Query(description="Teams with a member at this school")]


@router.get("/year-end", responses=error_responses(401, 403, 422))
async def year_end_report(
    reads: ReadsDep,
    caller: Admin,
    page: PageDep,
    school_year: SchoolYearFilter = None,
    school_id: SchoolFilter = None,
) -> Page[YearEndRow]:
    """The year-end growth report: every team the administrator oversees with its focus area,
    plan status, progress, coverage arranged and year-end meeting status. Counts and statuses
    only. Also as CSV at `/reports/year-end.csv`."""
    return await service.report(reads, caller, page, school_year, school_id)


@router.get(
    "/year-end.csv",
    responses={
        **error_responses(401, 403, 422),
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"},
    },
    response_class=Response,
)
async def year_end_report_csv(
    reads: ReadsDep,
    caller: Admin,
    school_year: SchoolYearFilter = None,
    school_id: SchoolFilter = None,
) -> Response:
    """The same report as a CSV download (cells that a spreadsheet would read as formulas are
    prefixed with an apostrophe)."""
    body = await service.report_csv(reads, caller, school_year, school_id)
    name = f"year-end-{school_year or 'all'}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
