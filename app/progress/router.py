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
    administrators of the members' schools may read it. An event counts once it is held:
    confirmed by a participant (`POST /events/{id}/held`; a year-end meeting by an
    administrator) or its record written; its end time passing is not enough. Each missing
    step has a `code` and `params` for a front end to word in any language. Reflections are
    counted as the caller may read them (administrators: the team's program posts)."""
    return progress
