import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from app.core.schemas import InputModel, OutputModel, Text
from app.events.models import EventStatus

Entry = Annotated[str, Text(2000, 1)]
Entries = Annotated[list[Entry], Field(max_length=50)]
LongText = Annotated[str, Text(20_000)]


class ObservationRecordWrite(InputModel):
    affirmations: Entries = Field(
        default_factory=list,
        description="What you observed that affirmed your own practices and beliefs",
    )
    new_understandings: Entries = Field(
        default_factory=list, description="New ideas you plan to use in your own classroom"
    )
    open_questions: Entries = Field(
        default_factory=list, description="Questions about instruction or the target that remain"
    )
    evidence: LongText | None = Field(default=None, description="What was seen")


class ObservationRecordUpdate(InputModel):
    affirmations: Entries | None = None
    new_understandings: Entries | None = None
    open_questions: Entries | None = None
    evidence: LongText | None = None


class ObservationRecordPublic(OutputModel):
    id: uuid.UUID
    event_id: uuid.UUID
    team_id: uuid.UUID
    author_id: uuid.UUID
    affirmations: list[str]
    new_understandings: list[str]
    open_questions: list[str]
    evidence: str | None
    version: int
    created_at: datetime
    updated_at: datetime


PRE_ONLY = frozenset({"learning_target_agreed"})
POST_ONLY = frozenset({"strategies_modelled", "questions_posed", "next_steps"})


class ConferenceRecordWrite(InputModel):
    learning_target_agreed: LongText | None = Field(
        default=None,
        description="Pre-conference: the learning target the team agreed on. It becomes the "
        "plan's learning target, the team's one target (read it on the plan or the team; the "
        "plan must be a draft or returned, else 409). Left out or null: the target stays.",
    )
    summary: LongText | None = Field(default=None, description="What was discussed")
    strategies_modelled: LongText | None = Field(
        default=None, description="Post-conference: the strategies modelled in the observations"
    )
    questions_posed: LongText | None = Field(
        default=None, description="Post-conference: the questions you posed to each other"
    )
    next_steps: LongText | None = Field(
        default=None, description="Post-conference: next steps for learning"
    )


class ConferenceRecordPublic(OutputModel):
    id: uuid.UUID
    event_id: uuid.UUID
    team_id: uuid.UUID
    author_id: uuid.UUID = Field(description="Who wrote the record first")
    summary: str | None
    strategies_modelled: str | None
    questions_posed: str | None
    next_steps: str | None
    written_by: dict[str, uuid.UUID] = Field(
        description="Who wrote each answer as it stands: the member whose save last changed it"
    )
    updated_by_id: uuid.UUID | None = Field(description="Who saved it last")
    version: int
    created_at: datetime
    updated_at: datetime


class RecordStanding(StrEnum):
    written = "written"
    none = "none"
    before_you_joined = "before_you_joined"


class ComparedObservation(OutputModel):
    event_id: uuid.UUID
    starts_at: datetime
    status: EventStatus
    observer_id: uuid.UUID | None
    observed_id: uuid.UUID | None
    learning_target: str | None = Field(description="This observation's learning target")
    record_status: RecordStanding = Field(
        description="written; none yet; before_you_joined (written before you joined the team: "
        "it opens to you when the members before you agree)"
    )
    record: ObservationRecordPublic | None


class StrategyComparison(OutputModel):
    strategy: str | None = Field(
        description="The strategy observed, as first written (observations naming it in any "
        "letter case or spacing are compared together); null: observations naming none"
    )
    observations: list[ComparedObservation] = Field(description="In the order they happened")


class ObservationComparison(OutputModel):
    strategies: list[StrategyComparison] = Field(
        description="The team's observations (not cancelled or deleted) grouped by the strategy "
        "observed, each group in the order its first observation happened"
    )
