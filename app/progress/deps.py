"""A team's progress as the caller may read it, or 404 before the handler runs."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth.deps import StaffCaller
from app.core.access import read_visible
from app.core.db import utcnow
from app.core.deps import ReadsDep
from app.progress import service
from app.progress.schemas import TeamProgress
from app.teams.deps import MISSING


async def get_team_progress(
    team_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller
) -> TeamProgress:
    """Progress is part of what everyone who sees the team sees (teams' `visible_teams`)."""
    now = utcnow()
    stmt = service.progress_statement(caller, team_id, now)
    facts = await read_visible(reads, service.TeamFacts, stmt, missing=MISSING)
    return service.build_progress(facts, now)


TeamProgressView = Annotated[TeamProgress, Depends(get_team_progress)]
