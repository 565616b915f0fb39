import uuid

from fastapi import APIRouter, Response

from app.auth.deps import StaffCaller
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import error_responses
from app.core.etag import IfMatch, etag
from app.core.pagination import Page, PageDep
from app.learning_forms import service
from app.learning_forms.deps import LearningFormView, OwnFormsReader
from app.learning_forms.schemas import LearningFormPublic, LearningFormWrite
from app.read_log.deps import NoteRead
from app.read_log.models import ReadKind
from app.records.deps import WithinTeamRecords
from app.teams.deps import ViewableTeam

router = APIRouter(tags=["learning forms"])
ONE = "/teams/{team_id}/learning-forms/{teacher_id}"


@router.get("/teams/{team_id}/learning-forms", responses=error_responses(401, 403, 404, 422))
async def list_learning_forms(
    team: WithinTeamRecords,
    team_id: uuid.UUID,
    reads: ReadsDep,
    page: PageDep,
    caller: StaffCaller,
    note: NoteRead,
) -> Page[LearningFormPublic]:
    """Each teacher's learning form on the team (team members only: confidential, like the
    records; a later member reads those written since they joined until the members before
    them agree)."""
    query, values = service.team_forms_query(caller, team_id)
    forms = await reads.page(LearningFormPublic, query, page, values, within=team)
    await note(ReadKind.learning_forms, team_id)
    return forms


@router.get(ONE, responses=error_responses(401, 403, 404, 422))
async def get_learning_form(form: LearningFormView, response: Response) -> LearningFormPublic:
    """One teacher's learning form (team members only). Carries an `ETag`."""
    response.headers["ETag"] = etag("learning-form", form.version)
    return form


@router.put(
    ONE,
    responses={
        **error_responses(401, 403, 404, 409, 412, 422, 428),
        201: {"model": LearningFormPublic, "description": "Your first answers"},
    },
)
async def put_learning_form(
    team: ViewableTeam,
    teacher_id: uuid.UUID,
    body: LearningFormWrite,
    session: SessionDep,
    principal: StaffCaller,
    response: Response,
    if_match: IfMatch = None,
) -> LearningFormPublic:
    """Write your own learning form (`teacher_id` is you): the pre-conference part and the
    action-plan part, answered through the cycle and editable until the plan is completed
    (409 after). To replace it send its `ETag` as `If-Match`. Confidential to the team."""
    form, created = await service.put(session, principal, team, teacher_id, body, if_match)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag("learning-form", form.version)
    return LearningFormPublic.model_validate(form)


@router.get("/me/learning-forms", responses=error_responses(401, 403, 422))
async def list_own_learning_forms(
    principal: OwnFormsReader, reads: ReadsDep, page: PageDep
) -> Page[LearningFormPublic]:
    """The learning forms you wrote, latest first: on your teams and on teams you have left
    (what you wrote stays yours to read). Teachers only."""
    query, values = service.own_forms_query(principal)
    return await reads.page(LearningFormPublic, query, page, values)
