import uuid

from fastapi import APIRouter

from app.core.deps import ReadsDep
from app.core.errors import error_responses
from app.core.pagination import Page, PageDep
from app.read_log import service
from app.read_log.schemas import ConfidentialReadPublic
from app.records.deps import WithinTeamRecords

router = APIRouter(tags=["read log"])


@router.get("/teams/{team_id}/read-log", responses=error_responses(401, 403, 404, 422))
async def list_confidential_reads(
    team: WithinTeamRecords, team_id: uuid.UUID, reads: ReadsDep, page: PageDep
) -> Page[ConfidentialReadPublic]:
    """Who read the team's confidential records, newest first: each observation record,
    conference record and learning form read, each list of them, the comparison and the
    summary with its records, with the reader and the time (team members only). No
    administrator reads these records, and this log lets the team see that none did."""
    query, values = service.team_log_query(team_id)
    return await reads.page(ConfidentialReadPublic, query, page, values, within=team)
