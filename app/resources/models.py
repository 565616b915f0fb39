import uuid
from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, utcnow


class Resource(SQLModel, table=True):
    """A peer coaching material in the library curated by administrators."""

    __tablename__ = "resource"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    title: str = Field(max_length=200)
    url: str | None = Field(default=None, max_length=2000)
    body: str | None = Field(default=None, sa_type=Text)
    created_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ResourceTag(SQLModel, table=True):
    __tablename__ = "resource_tag"

    resource_id: uuid.UUID = Field(foreign_key="resource.id", primary_key=True, ondelete="CASCADE")
    focus_area_id: uuid.UUID = Field(
        foreign_key="focus_area.id", primary_key=True, index=True, ondelete="RESTRICT"
    )


class ResourceReview(SQLModel, table=True):
    """A teacher marked the resource reviewed ("review the peer coaching resource materials")."""

    __tablename__ = "resource_review"

    resource_id: uuid.UUID = Field(foreign_key="resource.id", primary_key=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(
        foreign_key="user_account.id", primary_key=True, index=True, ondelete="CASCADE"
    )
    reviewed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
