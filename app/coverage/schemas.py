import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from app.core.schemas import InputModel, OutputModel, ShortText, Text
from app.coverage.models import CoverageStatus
from app.teams.schemas import MemberRef


class CoverageRequestCreate(InputModel):
    event_id: uuid.UUID = Field(description="The observation during which your class needs a sub")
    school_id: uuid.UUID | None = Field(
        default=None, description="Which of your schools; needed only if you teach at several"
    )
    note: Annotated[str, Text(2000)] | None = None


class CoverageArrange(InputModel):
    covered_by: ShortText = Field(description="Who covers the class")
    note: Annotated[str, Text(2000)] | None = None


class CoverageDecline(InputModel):
    reason: Annotated[str, Text(2000, 1)]


class CoverageRequestPublic(OutputModel):
    id: uuid.UUID
    event_id: uuid.UUID
    team_id: uuid.UUID
    school_id: uuid.UUID
    requester: MemberRef
    event_starts_at: datetime
    event_ends_at: datetime
    note: str | None
    status: CoverageStatus
    covered_by: str | None
    decision_note: str | None
    decided_by_id: uuid.UUID | None
    decided_at: datetime | None
    created_at: datetime
    updated_at: datetime
