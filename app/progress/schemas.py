import uuid
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from app.plans.models import PlanStatus
from app.teams.schemas import MemberRef


class MeetingState(StrEnum):
    none = "none"
    scheduled = "scheduled"  # on the calendar, not confirmed held yet (past or ahead)
    held = "held"


class StepCode(StrEnum):
    """A step of the cycle still to do, in the program's order."""

    plan_approved = "plan_approved"
    pre_conference_held = "pre_conference_held"
    teacher_observed = "teacher_observed"
    teacher_observing = "teacher_observing"
    post_conference_held = "post_conference_held"
    reflections_written = "reflections_written"
    year_end_meeting_held = "year_end_meeting_held"


class MissingStep(BaseModel):
    """What is still to do, for a front end to show in any language: the code and its
    parameters, with an English message."""

    code: StepCode
    params: dict[str, str | int] = Field(
        description="plan_approved: plan_status; *_held: unconfirmed (events that ended "
        "without being confirmed held); teacher_*: teacher_id, teacher (name), held, required"
    )
    message: str


class DeadlineCode(StrEnum):
    """A date of the team's school year (school_years: recorded by the district)."""

    plan_due = "plan_due"  # the plan approved by then
    observations_due = "observations_due"  # every observation held by the window's end
    year_end_meeting_due = "year_end_meeting_due"  # held by the end of its window


class DeadlineState(StrEnum):
    met = "met"
    upcoming = "upcoming"
    overdue = "overdue"


class Deadline(BaseModel):
    code: DeadlineCode
    due_on: date
    state: DeadlineState = Field(description="met; upcoming (not met, not past); overdue")
    message: str


class TeacherObservations(BaseModel):
    teacher: MemberRef
    observed: int = Field(description="Observations of this teacher's class held")
    observing: int = Field(description="Observations this teacher made, held")


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
    missing: list[MissingStep] = Field(description="What is left, in the program's order")
    deadlines: list[Deadline] = Field(
        description="The program's dates in the team's school year, each met, upcoming or "
        "overdue (days in UTC); empty until the district records the year (GET /school-years)"
    )
