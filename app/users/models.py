import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, one_of, utcnow


class Role(StrEnum):
    teacher = "teacher"
    school_admin = "school_admin"
    district_admin = "district_admin"


class User(SQLModel, table=True):
    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL
    __table_args__ = (
        one_of("role", Role),
        # Staff lists are ordered so; with this index a page reads its rows in order and stops,
        # instead of sorting every staff member (and computing their memberships) first.
        Index("ix_user_account_name_order", "family_name", "given_name", "id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    # Stored lower-cased, so uniqueness is case-insensitive on both engines.
    email: str = Field(max_length=320, unique=True)
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    role: Role = Field(sa_type=String(20))
    sourced_id: str | None = Field(default=None, max_length=255, unique=True)
    is_active: bool = Field(default=True)
    # Imported staff have no password until one is set.
    password_hash: str | None = Field(default=None, max_length=255)
    # Part of every access token: bumping it (deactivation, password change) ends old sessions.
    token_version: int = Field(default=0)
    # The latest invitation to set a password, and when the person set it (app/invitations).
    invited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # False once someone else (an administrator, a roster) changes the address of an account:
    # no password link goes to it and no single sign-on matches it by email until the person
    # sets their password themselves, so changing a teacher's email never hands their account
    # (and their team's records) to whoever did.
    email_confirmed: bool = Field(default=True)
    # The same for the roster id, which single sign-on also matches (app/auth/sso.py).
    roster_id_confirmed: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SchoolMembership(SQLModel, table=True):
    __tablename__ = "school_membership"

    user_id: uuid.UUID = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    school_id: uuid.UUID = Field(
        foreign_key="school.id", primary_key=True, index=True, ondelete="RESTRICT"
    )


class StaffDirectoryEntry(SQLModel, table=True):
    """One member of one school, with the name and state that lists show: a copy kept by the
    database's own triggers on `user_account` and `school_membership` (migration 0015), never
    written by the app. A page of a school's colleagues reads 50 entries of one index in name
    order, instead of gathering and sorting the school's members."""

    __tablename__ = "staff_directory"
    __table_args__ = (
        Index(
            "ix_staff_directory_name_order",
            "school_id",
            "is_active",
            "family_name",
            "given_name",
            "user_id",
        ),
    )

    school_id: uuid.UUID = Field(foreign_key="school.id", primary_key=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(
        foreign_key="user_account.id", primary_key=True, index=True, ondelete="CASCADE"
    )
    family_name: str = Field(max_length=100)
    given_name: str = Field(max_length=100)
    is_active: bool
