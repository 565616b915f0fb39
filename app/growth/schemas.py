import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from app.core.schemas import InputModel, OutputModel, Text

GrowthText = Annotated[str, Text(20_000)]


class GrowthRecordWrite(InputModel):
    learned: GrowthText | None = Field(default=None, description="What the team learned")
    goals_next_year: GrowthText | None = Field(default=None, description="Goals for next year")


class GrowthRecordPublic(OutputModel):
    id: uuid.UUID
    event_id: uuid.UUID
    team_id: uuid.UUID
    learned: str | None
    goals_next_year: str | None
    created_by_id: uuid.UUID | None
    updated_by_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime
