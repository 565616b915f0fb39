from fastapi import APIRouter

from app.core.errors import error_responses
from app.progress.deps import TeamProgressView
from app.progress.schemas import TeamProgress

router = APIRouter(tags=["progress"])


@router.get("/teams/{team_id}/progress", responses=error_responses(401, 403, 404, 422))
async def get_team_progress(progress: TeamProgressView) -> TeamProgress:
    """Which steps of the cycle are done and what is missing: plan approved, pre-conference
    held, each teacher observed at least twice and observing at least twice, post-conference
    held, reflections written, year-end meeting held. Counts and statuses only, so
    administrators of the members' schools may read it; an event counts once it has ended and
    was not cancelled. Reflections are counted as the caller may read them (administrators:
    the team's program posts)."""
    return progress
