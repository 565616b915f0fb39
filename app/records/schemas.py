import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from app.core.schemas import InputModel, OutputModel, Text

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


class ConferenceRecordWrite(InputModel):
    learning_target_agreed: LongText | None = Field(
        default=None, description="Pre-conference: the learning target the team agreed on"
    )
    summary: LongText | None = Field(default=None, description="What was discussed")
    next_steps: LongText | None = Field(
        default=None, description="Post-conference: next steps for learning"
    )


class ConferenceRecordPublic(OutputModel):
    id: uuid.UUID
    event_id: uuid.UUID
    team_id: uuid.UUID
    author_id: uuid.UUID
    learning_target_agreed: str | None
    summary: str | None
    next_steps: str | None
    version: int
    created_at: datetime
    updated_at: datetime
