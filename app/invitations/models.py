"""Single-use, expiring tokens that let a person set their password: an invitation to a new
account (a roster import's staff have none) or a password reset. Only a hash is stored."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, one_of, utcnow


class TokenPurpose(StrEnum):
    invitation = "invitation"  # a new account's first password
    password_reset = "password_reset"  # "forgot my password", or an administrator's reset


class AccountToken(SQLModel, table=True):
    __tablename__ = "account_token"
    __table_args__ = (one_of("purpose", TokenPurpose),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    purpose: TokenPurpose = Field(sa_type=String(20))
    # SHA-256 of the token, hex: the token itself is only ever in the email.
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
