import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from app.core.schemas import InputModel, OutputModel, Text

FormText = Annotated[str, Text(20_000)]


class LearningFormWrite(InputModel):
    """Your answers, whole: an answer left out or null is empty."""

    purpose: FormText | None = Field(
        default=None, description="Pre-conference: the learning target's purpose for you"
    )
    philosophies_and_literature: FormText | None = Field(
        default=None,
        description="Pre-conference: your instructional understandings and philosophies, and "
        "any literature that supports your focus",
    )
    pre_conference_summary: FormText | None = Field(
        default=None, description="Pre-conference: briefly, what was discussed"
    )
    take_back_to_classroom: FormText | None = Field(
        default=None, description="Action plan: what will you take back to your classroom?"
    )
    how_to_apply: FormText | None = Field(
        default=None, description="Action plan: how will you apply your new understandings?"
    )
    addressing_open_questions: FormText | None = Field(
        default=None, description="Action plan: how will you address the questions you still have?"
    )


class LearningFormPublic(OutputModel):
    id: uuid.UUID
    team_id: uuid.UUID
    teacher_id: uuid.UUID = Field(description="The teacher whose answers these are")
    purpose: str | None
    philosophies_and_literature: str | None
    pre_conference_summary: str | None
    take_back_to_classroom: str | None
    how_to_apply: str | None
    addressing_open_questions: str | None
    version: int
    created_at: datetime
    updated_at: datetime
