import uuid

from fastapi import APIRouter, Response

from app.auth.deps import StaffCaller
from app.core.deps import ReadsDep, SessionDep, WritesDep
from app.core.errors import error_responses
from app.core.etag import IfMatch, etag, require_current
from app.core.pagination import Page, PageDep
from app.read_log.deps import NoteRead
from app.read_log.models import ReadKind
from app.records import service
from app.records.deps import (
    ConferenceRecordOf,
    ConferenceRecordView,
    EditableObservationRecord,
    ObservationRecordView,
    OwnRecordsReader,
    RecordableEvent,
    WithinTeamRecords,
)
from app.records.schemas import (
    ConferenceRecordPublic,
    ConferenceRecordWrite,
    ObservationComparison,
    ObservationRecordPublic,
    ObservationRecordUpdate,
    ObservationRecordWrite,
)

router = APIRouter(tags=["records"])
OBS = "/events/{event_id}/observation-record"
CONF = "/events/{event_id}/conference-record"


@router.post(OBS, status_code=201, responses=error_responses(401, 403, 404, 409, 422))
async def create_observation_record(
    event_id: RecordableEvent,
    body: ObservationRecordWrite,
    writes: WritesDep,
    principal: StaffCaller,
    response: Response,
) -> ObservationRecordPublic:
    """The observer records affirmations, new understandings and questions still open for
    one observation. Confidential to the team: no administrator can read it."""
    record = await service.create_observation(writes, principal, event_id, body)
    response.headers["ETag"] = etag("observation", record.version)
    return record


@router.get(OBS, responses=error_responses(401, 403, 404, 422))
async def get_observation_record(
    record: ObservationRecordView, response: Response
) -> ObservationRecordPublic:
    """The observation's record (team members only)."""
    response.headers["ETag"] = etag("observation", record.version)
    return record


@router.patch(OBS, responses=error_responses(401, 403, 404, 409, 412, 422, 428))
async def update_observation_record(
    found: EditableObservationRecord,
    body: ObservationRecordUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> ObservationRecordPublic:
    """Edit your observation record; a list you send replaces the old one. A stale
    `If-Match` answers 412."""
    require_current(if_match, "observation", found.record.version)
    record = await service.update_observation(session, found.record, body)
    response.headers["ETag"] = etag("observation", record.version)
    return ObservationRecordPublic.model_validate(record)


@router.get(CONF, responses=error_responses(401, 403, 404, 422))
async def get_conference_record(
    record: ConferenceRecordView, response: Response
) -> ConferenceRecordPublic:
    """The record of a pre- or post-conference (team members only). Its date and location
    are the event's."""
    response.headers["ETag"] = etag("conference", record.version)
    return record


@router.put(
    CONF,
    responses={
        **error_responses(401, 403, 404, 409, 412, 422, 428),
        201: {
            "model": ConferenceRecordPublic,
            "description": "The first record of this conference",
        },
    },
)
async def put_conference_record(
    found: ConferenceRecordOf,
    body: ConferenceRecordWrite,
    session: SessionDep,
    principal: StaffCaller,
    response: Response,
    if_match: IfMatch = None,
) -> ConferenceRecordPublic:
    """Write the conference record: for a pre-conference the learning target agreed and a
    summary; for a post-conference the summary and next steps. Any member may write it; to
    replace it send its `ETag` as `If-Match` (428 without), so a teammate's save is never
    silently overwritten."""
    if found.record is not None:  # replacing it: the version you read, or 428/412
        require_current(if_match, "conference", found.record.version)
    record, created = await service.put_conference(session, principal, found, body)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag("conference", record.version)
    return ConferenceRecordPublic.model_validate(record)


@router.get("/teams/{team_id}/observation-records", responses=error_responses(401, 403, 404, 422))
async def list_observation_records(
    team: WithinTeamRecords,
    team_id: uuid.UUID,
    reads: ReadsDep,
    page: PageDep,
    caller: StaffCaller,
    note: NoteRead,
) -> Page[ObservationRecordPublic]:
    """Every observation record of the team you may read, in the order the observations
    happened (team members only; a later member, those written since they joined until the
    members before them agree)."""
    query, values = service.team_observations_query(caller, team_id)
    found = await reads.page(ObservationRecordPublic, query, page, values, within=team)
    await note(ReadKind.observation_records, team_id)
    return found


@router.get(
    "/teams/{team_id}/observation-comparison", responses=error_responses(401, 403, 404, 422)
)
async def compare_observations(
    team: WithinTeamRecords,
    team_id: uuid.UUID,
    reads: ReadsDep,
    caller: StaffCaller,
    note: NoteRead,
) -> ObservationComparison:
    """The team's observations side by side by the strategy observed, as the learning form
    asks ("observations should be done on the same or similar instructional strategies"):
    each with its learning target, observer, observed teacher and record (team members only;
    a record written before you joined shows as `before_you_joined` until the members before
    you agree)."""
    observed_stmt = service.team_observed_statement(caller, team_id)
    observed = await reads.all(service.ObservedRow, observed_stmt, within=team)
    compared = service.compare_by_strategy(observed)
    await note(ReadKind.observation_comparison, team_id)
    return compared


@router.get("/me/observation-records", responses=error_responses(401, 403, 422))
async def list_own_observation_records(
    principal: OwnRecordsReader, reads: ReadsDep, page: PageDep
) -> Page[ObservationRecordPublic]:
    """The observation records you wrote, latest first: on your teams, and on teams you have
    left (what you wrote stays yours to read; nothing else of such a team does). Teachers only:
    an administrator reads no observation notes, their own from before included."""
    query, values = service.own_observations_query(principal)
    return await reads.page(ObservationRecordPublic, query, page, values)
