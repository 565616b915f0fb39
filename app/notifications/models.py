"""What people are told: one row per person and happening, read in the app and, by each
person's settings, emailed (the worker turns a pending row into an outbox email)."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, text
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, one_of, utcnow


class NotificationKind(StrEnum):
    plan_submitted = "plan_submitted"  # to the administrators of the members' schools
    plan_returned = "plan_returned"  # to the team
    plan_approved = "plan_approved"  # to the team
    event_scheduled = "event_scheduled"  # to its participants
    event_moved = "event_moved"
    event_cancelled = "event_cancelled"
    coverage_requested = "coverage_requested"  # to the administrators of the requester's schools
    coverage_arranged = "coverage_arranged"  # to the requester
    coverage_declined = "coverage_declined"
    coverage_needs_review = "coverage_needs_review"  # arranged, then the observation moved
    support_answered = "support_answered"  # to the teacher who asked
    reflection_comment = "reflection_comment"  # to the reflection's author
    team_invitation = "team_invitation"  # to the invitee
    # Reminders, fired by the worker (notifications/reminders.py)
    event_reminder = "event_reminder"  # to the participants, ahead of an event
    plan_overdue = "plan_overdue"  # to the team, once its plan's due date has passed
    coverage_pending = "coverage_pending"  # to the administrators, a few days before


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (
        one_of("kind", NotificationKind),
        # A person's notifications, newest first; and what the worker still has to email.
        Index("ix_notification_user_at", "user_id", text("created_at DESC"), "id"),
        Index("ix_notification_email_due", "email_pending"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="CASCADE")
    kind: NotificationKind = Field(sa_type=String(40))
    # What happened, in a line, and where to see it: never what a record or a note says.
    title: str = Field(max_length=300)
    link: str = Field(max_length=300, description="A path in the front end, e.g. /events/{id}")
    team_id: uuid.UUID | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # True until the worker has queued its email (false when the person wants none).
    email_pending: bool = Field(default=False)


class ReminderSent(SQLModel, table=True):
    """A reminder already fired (its key names what and for when): the worker fires each once,
    however many workers run."""

    __tablename__ = "reminder_sent"

    key: str = Field(primary_key=True, max_length=200)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NotificationSetting(SQLModel, table=True):
    """A person's choice for one kind (no row: emailed)."""

    __tablename__ = "notification_setting"

    user_id: uuid.UUID = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    kind: str = Field(primary_key=True, max_length=40)
    email: bool = Field(default=True)
