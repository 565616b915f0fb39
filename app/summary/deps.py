"""The summary of a team the caller sees, composed before the handler runs (404 otherwise).
Who reads which part is the teams' rule: `teams.policies.confidential_columns`."""

import uuid
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends

from app.auth.deps import StaffCaller
from app.core.deps import ReadsDep
from app.summary import service
from app.summary.schemas import TeamSummary


async def get_summary(team_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller) -> TeamSummary:
    return await service.compile_summary(reads, caller, team_id)


SummaryView = Annotated[TeamSummary, Depends(get_summary)]


@dataclass
class SummaryDocument:
    summary: TeamSummary
    zone: ZoneInfo


async def get_summary_document(
    team_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller
) -> SummaryDocument:
    return SummaryDocument(*await service.compile_document(reads, caller, team_id))


SummaryDocumentView = Annotated[SummaryDocument, Depends(get_summary_document)]
