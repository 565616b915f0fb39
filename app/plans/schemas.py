import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from app.core.schemas import InputModel, OutputModel, Text
from app.plans.models import PlanStatus

PlanText = Annotated[str, Text(10_000)]


class PlanUpdate(InputModel):
    learning_target: PlanText | None = None
    focus_goal: PlanText | None = None
    lesson_purpose: PlanText | None = None
    classroom_dynamics: PlanText | None = None
    philosophies_and_literature: PlanText | None = None


class PlanAction(StrEnum):
    submit = "submit"
    approve = "approve"
    return_ = "return"
    complete = "complete"


class PlanTransitionCreate(InputModel):
    action: PlanAction = Field(
        description="submit (members); approve, return (a comment is required), complete "
        "(administrators of a member's school)"
    )
    comment: Annotated[str, Text(5000)] | None = None
    override_missing: bool = Field(
        default=False,
        description="complete: although the team's progress shows steps missing (administrators; "
        "the comment says why, and the steps are recorded with the move)",
    )


class PlanPublic(OutputModel):
    id: uuid.UUID
    team_id: uuid.UUID
    status: PlanStatus
    learning_target: str | None
    focus_goal: str | None
    lesson_purpose: str | None
    classroom_dynamics: str | None
    philosophies_and_literature: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class EventSeen(OutputModel):
    id: uuid.UUID
    version: int = Field(description="The event's version (ETag) when the plan was approved")


class PlanTransitionPublic(OutputModel):
    id: uuid.UUID
    from_status: PlanStatus
    to_status: PlanStatus
    actor_id: uuid.UUID | None
    comment: str | None
    steps_missing: list[str] | None = Field(
        description="A completion that overrode missing steps: their codes (progress's StepCode)"
    )
    events_seen: list[EventSeen] | None = Field(
        description="An approval: the team's calendar as the administrator reviewed it"
    )
    at: datetime
