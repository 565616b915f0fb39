from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.audit import service
from app.audit.deps import TrailReader
from app.audit.schemas import AuditEventPublic, AuditFilters
from app.core.csv_export import to_csv
from app.core.deps import ReadsDep
from app.core.errors import Unprocessable, error_responses
from app.core.pagination import Page, PageDep, PageParams

router = APIRouter(tags=["audit"])

MAX_CSV_EVENTS = 50_000
Filters = Annotated[AuditFilters, Query()]


@router.get("/audit-events", responses=error_responses(401, 403, 422))
async def list_audit_events(
    _reader: TrailReader, reads: ReadsDep, page: PageDep, filters: Filters
) -> Page[AuditEventPublic]:
    """The audit trail, newest first (district administrators): sign-ins and failed ones,
    invitations, password resets, accounts created, role, school and email changes,
    deactivations, integration keys, roster imports, plan decisions and every read of a
    confidential record; who, what, when and from where, never a record's content. Filter by
    `action` (repeat it for several), `actor_id`, `subject_user_id`, `team_id`, `since` and
    `until`. Also as CSV at `/audit-events.csv`."""
    query, values = service.trail_query(filters)
    return await reads.page(AuditEventPublic, query, page, values)


_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"}
}


@router.get(
    "/audit-events.csv",
    responses={**error_responses(401, 403, 422), **_CSV},
    response_class=Response,
)
async def export_audit_events(_reader: TrailReader, reads: ReadsDep, filters: Filters) -> Response:
    """The same events as a CSV download, newest first, with the same filters; at most
    50,000 (more is a 422: narrow `since`/`until`)."""
    query, values = service.trail_query(filters)
    everything = PageParams(limit=MAX_CSV_EVENTS + 1, offset=0, counted=False)
    found = await reads.page(AuditEventPublic, query, everything, values)
    if len(found.items) > MAX_CSV_EVENTS:
        raise Unprocessable(
            f"More than {MAX_CSV_EVENTS} events match: narrow the period with since/until"
        )
    body = to_csv(service.CSV_COLUMNS, [service.csv_row(e) for e in found.items])
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-events.csv"'},
    )
