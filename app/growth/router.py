from fastapi import APIRouter, Response

from app.auth.deps import StaffCaller
from app.core.deps import SessionDep
from app.core.errors import error_responses
from app.core.etag import IfMatch, etag
from app.events.deps import ViewableEvent
from app.growth import service
from app.growth.deps import GrowthRecordView
from app.growth.schemas import GrowthRecordPublic, GrowthRecordWrite

router = APIRouter(tags=["growth"])
PATH = "/events/{event_id}/growth-record"


@router.get(PATH, responses=error_responses(401, 403, 404, 422))
async def get_growth_record(record: GrowthRecordView, response: Response) -> GrowthRecordPublic:
    """What the team learned and its goals for next year, from the year-end meeting: read by
    the team and by the administrators of its members' schools, by design. It is the one record
    administrators read; observation and conference notes stay the team's."""
    response.headers["ETag"] = etag("growth", record.version)
    return record


@router.put(
    PATH,
    responses={
        **error_responses(401, 403, 404, 409, 412, 422, 428),
        201: {"model": GrowthRecordPublic, "description": "The first growth record"},
    },
)
async def put_growth_record(
    ev: ViewableEvent,
    body: GrowthRecordWrite,
    session: SessionDep,
    principal: StaffCaller,
    response: Response,
    if_match: IfMatch = None,
) -> GrowthRecordPublic:
    """Write the year-end meeting's growth record, once the meeting has started: the team's
    members and the administrators of its members' schools, together. An administrator's
    writing confirms the meeting was held. To replace it send its `ETag` as `If-Match`."""
    record, created = await service.put(session, principal, ev, body, if_match)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag("growth", record.version)
    return GrowthRecordPublic.model_validate(record)
