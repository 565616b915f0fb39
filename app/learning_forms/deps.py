"""A learning form the caller may read, or 404/403 before the handler runs."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth.deps import StaffCaller
from app.auth.principal import Principal
from app.core.deps import ReadsDep
from app.core.errors import Forbidden
from app.learning_forms import service
from app.learning_forms.schemas import LearningFormPublic
from app.read_log.deps import NoteRead
from app.read_log.models import ReadKind
from app.records import policies as record_policies
from app.records.deps import decide
from app.records.service import Confidential
from app.teams.deps import MISSING as TEAM_MISSING


async def get_form_view(
    team_id: uuid.UUID,
    teacher_id: uuid.UUID,
    reads: ReadsDep,
    caller: StaffCaller,
    note: NoteRead,
) -> LearningFormPublic:
    """A teacher's form on a team: its members read it, administrators never (one statement)."""
    stmt = service.form_statement(caller, team_id, teacher_id)
    facts = await reads.one(Confidential[LearningFormPublic], stmt)
    missing = "This teacher has not written a learning form on this team yet"
    form = decide(facts, missing, unseen=TEAM_MISSING)
    await note(ReadKind.learning_form, form.team_id, form.id)
    return form


LearningFormView = Annotated[LearningFormPublic, Depends(get_form_view)]


async def get_own_forms_reader(caller: StaffCaller) -> Principal:
    if not record_policies.may_read_own_records(caller):
        raise Forbidden("An administrator reads no learning form, their own included")
    return caller


OwnFormsReader = Annotated[Principal, Depends(get_own_forms_reader)]
