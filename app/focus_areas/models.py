import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, utcnow


class FocusArea(SQLModel, table=True):
    """The district-editable catalog of focus areas, seeded with the program's suggestions."""

    __tablename__ = "focus_area"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    description: str | None = Field(default=None, max_length=2000)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
