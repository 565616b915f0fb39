"""The summary of a team the caller sees, composed before the handler runs (404 otherwise).
Who reads which part is the teams' rule: `teams.policies.confidential_columns`."""

import uuid
from typing import Annotated

from fastapi import Depends, Query

from app.auth.deps import StaffCaller
from app.core.deps import ReadsDep
from app.read_log.deps import NoteRead
from app.read_log.models import ReadKind
from app.summary import document, service
from app.summary.schemas import TeamSummary

IncludePrivate = Annotated[
    bool,
    Query(
        description="false leaves out the caller's private reflections, for a copy that is safe "
        "to hand over (only the author ever sees a private post)"
    ),
]


async def get_summary(
    team_id: uuid.UUID,
    reads: ReadsDep,
    caller: StaffCaller,
    note: NoteRead,
    include_private: IncludePrivate = True,
) -> TeamSummary:
    summary = await service.compile_summary(reads, caller, team_id, include_private=include_private)
    if summary.confidential_included:
        await note(ReadKind.summary, team_id)
    return summary


SummaryView = Annotated[TeamSummary, Depends(get_summary)]


async def get_summary_document(
    team_id: uuid.UUID,
    reads: ReadsDep,
    caller: StaffCaller,
    note: NoteRead,
    include_private: IncludePrivate = True,
    format: document.Format = "html",
) -> document.Rendered:
    rendered = await document.render(
        reads, caller, team_id, format, include_private=include_private
    )
    if rendered.confidential_included:
        await note(ReadKind.summary, team_id)
    return rendered


SummaryDocumentView = Annotated[document.Rendered, Depends(get_summary_document)]
