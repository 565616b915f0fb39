import uuid
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field, model_validator

from app.core.schemas import InputModel, NotNull, OutputModel, Text, Timestamp
from app.events.models import EventKind, EventStatus
from app.teams.schemas import MemberRef

MAX_EVENT_LENGTH = timedelta(hours=12)


ObservationTarget = Annotated[str, Text(2000)]
Strategy = Annotated[str, Text(500)]


class EventCreate(InputModel):
    team_id: uuid.UUID
    kind: EventKind
    title: Annotated[str, Text(200)] | None = None
    starts_at: Timestamp = Field(description="With its UTC offset, e.g. 2026-12-01T09:00:00-06:00")
    ends_at: Timestamp
    location: Annotated[str, Text(200)] | None = None
    observer_id: uuid.UUID | None = Field(default=None, description="Observations: the observer")
    observed_id: uuid.UUID | None = Field(
        default=None, description="Observations: the teacher observed"
    )
    participant_ids: list[uuid.UUID] | None = Field(
        default=None,
        max_length=30,
        description="Who attends. Default: the whole team (an observation: observer and observed). "
        "A year-end meeting may include an administrator of a member's school.",
    )
    learning_target: ObservationTarget | None = Field(
        default=None,
        description="Observations: the learning target for this observation (the team's is the "
        "plan's). Part of the calendar, which administrators see: no notes here.",
    )
    strategy: Strategy | None = Field(
        default=None,
        description="Observations: the instructional strategy observed; a pair's observations "
        "compare on the same strategy (GET /teams/{id}/observation-comparison)",
    )

    @model_validator(mode="after")
    def _times_and_roles(self) -> "EventCreate":
        _check_times(self.starts_at, self.ends_at)
        if self.kind == EventKind.observation:
            if self.observer_id is None or self.observed_id is None:
                raise ValueError("an observation names observer_id and observed_id")
            if self.observer_id == self.observed_id:
                raise ValueError("the observer and the observed teacher must be different people")
        else:
            if self.observer_id is not None or self.observed_id is not None:
                raise ValueError("observer_id and observed_id are only for observations")
            if self.learning_target is not None or self.strategy is not None:
                raise ValueError("learning_target and strategy are only for observations")
        return self


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise ValueError("ends_at must be after starts_at")
    if ends_at - starts_at > MAX_EVENT_LENGTH:
        raise ValueError("an event lasts at most 12 hours")


class EventUpdate(InputModel):
    """Reschedule or edit. Times are given together."""

    title: Annotated[str, Text(200)] | None = None
    starts_at: NotNull[Timestamp] = None
    ends_at: NotNull[Timestamp] = None
    location: Annotated[str, Text(200)] | None = None
    participant_ids: NotNull[Annotated[list[uuid.UUID], Field(max_length=30)]] = None
    learning_target: ObservationTarget | None = Field(
        default=None, description="Observations only (null clears it)"
    )
    strategy: Strategy | None = Field(
        default=None, description="Observations only (null clears it)"
    )

    @model_validator(mode="after")
    def _times(self) -> "EventUpdate":
        if (self.starts_at is None) != (self.ends_at is None):
            raise ValueError("give starts_at and ends_at together")
        if self.starts_at is not None and self.ends_at is not None:
            _check_times(self.starts_at, self.ends_at)
        return self


class EventCancel(InputModel):
    reason: Annotated[str, Text(1000)] | None = None


class EventPublic(OutputModel):
    id: uuid.UUID
    team_id: uuid.UUID
    kind: EventKind
    title: str | None
    starts_at: datetime
    ends_at: datetime
    location: str | None
    observer_id: uuid.UUID | None
    observed_id: uuid.UUID | None
    learning_target: str | None = Field(description="Observations: this observation's target")
    strategy: str | None = Field(description="Observations: the strategy observed")
    participants: list[MemberRef]
    status: EventStatus = Field(
        description="scheduled; held once a participant confirms it (a year-end meeting: an "
        "administrator) or its record is written; cancelled"
    )
    held_at: datetime | None = Field(description="When it was confirmed held")
    held_by_id: uuid.UUID | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    created_by_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
