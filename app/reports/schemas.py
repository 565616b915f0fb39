import uuid

from pydantic import BaseModel, Field

from app.plans.models import PlanStatus
from app.progress.schemas import DeadlineCode, MeetingState, StepCode


class YearEndRow(BaseModel):
    """One team in the year-end growth report: statuses and counts, never note content."""

    team_id: uuid.UUID
    team_name: str
    school_year: str
    schools: list[str] = Field(description="Schools of the team's members")
    focus_area: str | None
    members: list[str]
    plan_status: PlanStatus
    cycle_complete: bool
    steps_missing: int
    missing_steps: list[StepCode] = Field(
        description="What is still to do, in the program's order (progress's codes)"
    )
    deadlines_overdue: list[DeadlineCode] = Field(
        description="The school year's dates the team has passed without meeting them"
    )
    observations_held: int
    observation_records: int
    reflections: int
    coverage_arranged: int
    coverage_pending: int
    year_end_meeting: MeetingState
