import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, text
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, one_of, utcnow


class Team(SQLModel, table=True):
    """Two or more teachers working on a mutual learning target for a school year."""

    __tablename__ = "team"
    # The order lists show (newest school year first, then by name): a page reads 50 teams in
    # order and stops, instead of sorting every team of the district.
    __table_args__ = (Index("ix_team_list_order", text("school_year DESC"), "name", "id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=200)
    school_year: str = Field(max_length=9, index=True, description="e.g. 2026-2027")
    focus_area_id: uuid.UUID | None = Field(
        default=None, foreign_key="focus_area.id", ondelete="RESTRICT", index=True
    )
    focus_area_other: str | None = Field(default=None, max_length=500)
    # The team of an earlier school year that this one continues (members, focus, target).
    continued_from_id: uuid.UUID | None = Field(
        default=None, foreign_key="team.id", unique=True, ondelete="RESTRICT"
    )
    created_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Soft delete: an administrator can restore; nothing a teacher wrote is lost.
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )


class TeamMember(SQLModel, table=True):
    """A teacher on a team. Members join by accepting an invitation from the team (never by an
    administrator's doing), and read the team's confidential records (observation and
    conference records, team reflections) written from `sees_since` on: a newcomer sees
    earlier ones only once the members who were there before have consented."""

    __tablename__ = "team_member"

    team_id: uuid.UUID = Field(foreign_key="team.id", primary_key=True, ondelete="RESTRICT")
    user_id: uuid.UUID = Field(
        foreign_key="user_account.id", primary_key=True, index=True, ondelete="RESTRICT"
    )
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # None: every confidential record of the team; a time: those written from then on.
    sees_since: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SchoolTeam(SQLModel, table=True):
    """A team with a member at a school, and how many of its members are there: a copy kept
    by the database's own triggers on `team_member` and `school_membership` (migration 0046),
    never written by the app. An administrator's teams (and a school's, for a list or a feed)
    are read from here: 51 rows of one index for a school of 500 staff, instead of probing
    each member of the school into `team_member`."""

    __tablename__ = "school_team"

    school_id: uuid.UUID = Field(foreign_key="school.id", primary_key=True, ondelete="CASCADE")
    team_id: uuid.UUID = Field(
        foreign_key="team.id", primary_key=True, index=True, ondelete="CASCADE"
    )
    members: int


class InvitationStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    revoked = "revoked"


class TeamInvitation(SQLModel, table=True):
    """A team's invitation to a teacher. Membership needs the invitee's agreement."""

    __tablename__ = "team_invitation"
    __table_args__ = (
        one_of("status", InvitationStatus),
        # One open invitation per team and teacher, whatever parallel requests do.
        Index(
            "uq_team_invitation_pending",
            "team_id",
            "invitee_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    team_id: uuid.UUID = Field(foreign_key="team.id", index=True, ondelete="RESTRICT")
    invitee_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="RESTRICT")
    invited_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    # Sent when the team was formed: the founders agreed to share the team's records, so
    # accepting one opens everything; a later invitation opens what is written from then on.
    founding: bool = Field(default=False)
    status: InvitationStatus = Field(default=InvitationStatus.pending, sa_type=String(10))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class HistoryConsent(SQLModel, table=True):
    """A member's consent that a later member may read the records written before they joined."""

    __tablename__ = "team_history_consent"

    team_id: uuid.UUID = Field(foreign_key="team.id", primary_key=True, ondelete="RESTRICT")
    newcomer_id: uuid.UUID = Field(
        foreign_key="user_account.id", primary_key=True, ondelete="RESTRICT"
    )
    member_id: uuid.UUID = Field(
        foreign_key="user_account.id", primary_key=True, ondelete="RESTRICT"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
