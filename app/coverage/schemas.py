import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from app.core.schemas import InputModel, OutputModel, ShortText, Text
from app.coverage.models import CoverageStatus
from app.teams.schemas import MemberRef


class ObservationStatus(StrEnum):
    """Where the request's observation stands."""

    scheduled = "scheduled"
    held = "held"
    cancelled = "cancelled"
    deleted = "deleted"


class CoverageRequestCreate(InputModel):
    event_id: uuid.UUID = Field(description="The observation during which your class needs a sub")
    school_id: uuid.UUID | None = Field(
        default=None, description="Which of your schools; needed only if you teach at several"
    )
    note: Annotated[str, Text(2000)] | None = None


class CoverageArrange(InputModel):
    covered_by: ShortText = Field(description="Who covers the class")
    note: Annotated[str, Text(2000)] | None = None


class CoverageArrangeMany(CoverageArrange):
    request_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=20, description="Requests the same substitute covers"
    )


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
    event_location: str | None
    event_status: ObservationStatus
    note: str | None
    status: CoverageStatus = Field(
        description="pending; arranged; needs_review (arranged, then the observation moved: "
        "arranged_starts_at/arranged_ends_at say when it was arranged for); declined; cancelled "
        "(cancel_reason: withdrawn, or the observation was cancelled or deleted)"
    )
    arranged_starts_at: datetime | None
    arranged_ends_at: datetime | None
    cancel_reason: str | None
    covered_by: str | None
    decision_note: str | None
    decided_by_id: uuid.UUID | None
    decided_at: datetime | None
    created_at: datetime
    updated_at: datetime
