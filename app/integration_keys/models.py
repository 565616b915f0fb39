import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, utcnow


class IntegrationKey(SQLModel, table=True):
    """A named bearer credential for a district system, with scopes."""

    __tablename__ = "integration_key"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=12, unique=True)
    secret_hash: str = Field(max_length=64)
    scopes: str = Field(max_length=200, description="Space-separated scopes")
    created_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # After this moment the key authenticates nothing (None: until revoked).
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When it last authenticated a request, to the minute: written at most once a minute, off
    # the request's path (app/auth/deps.py), never on every request.
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
