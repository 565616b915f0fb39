import uuid
from datetime import datetime

from pydantic import Field

from app.core.schemas import OutputModel
from app.read_log.models import ReadKind
from app.teams.schemas import MemberRef


class ConfidentialReadPublic(OutputModel):
    id: uuid.UUID
    kind: ReadKind = Field(
        description="What was read: one record (observation_record, conference_record, "
        "learning_form), a list of them, the comparison, or the summary with its records"
    )
    record_id: uuid.UUID | None = Field(description="The record, for a single record's read")
    reader: MemberRef
    at: datetime
