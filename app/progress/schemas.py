import uuid
from enum import StrEnum

from pydantic import BaseModel, Field

from app.plans.models import PlanStatus
from app.teams.schemas import MemberRef


class MeetingState(StrEnum):
    none = "none"
    scheduled = "scheduled"
    held = "held"


class TeacherObservations(BaseModel):
    teacher: MemberRef
    observed: int = Field(description="Observations of this teacher's class that took place")
    observing: int = Field(description="Observations this teacher made that took place")


class TeamProgress(BaseModel):
    """Where a team is in the cycle: statuses and counts only, never the content of notes."""

    team_id: uuid.UUID
    plan_status: PlanStatus
    plan_approved: bool
    pre_conference: MeetingState
    observations: list[TeacherObservations]
    observations_required: int = Field(description="Per teacher, each way")
    observation_records: int = Field(description="Observation records written")
    post_conference: MeetingState
    reflections: int = Field(
        description="Reflections linked to the team that the caller may read (never a count "
        "of posts they may not see)"
    )
    year_end_meeting: MeetingState
    complete: bool
    missing: list[str] = Field(description="What is left, in the program's order")
