"""Email waiting to go out: written in the same transaction as the change that causes it (a
transactional outbox), delivered by `peercoach worker` (app/mail/worker.py)."""

import uuid
from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, utcnow


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (
        # What is due: unsent messages by when they may go.
        Index("ix_outbox_message_due", "sent_at", "send_after"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    kind: str = Field(sa_type=String(40), description="invitation, password_reset, ...")
    to_address: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    # The text, and an iCalendar invitation or cancellation sent with it (its METHOD says
    # which): sealed when `sealed` (app/mail/sealing.py), emptied once sent. `calendar` holds
    # parts written before migration 0045 (queued then, sent as they are); since, the worker
    # writes them from `calendar_spec`.
    body: str = Field(sa_type=Text)
    calendar: str | None = Field(default=None, sa_type=Text)
    # An invitation's calendar part not written yet: what `render` in app/calendar_feeds/mail.py
    # writes it from (JSON, sealed as the rest), written by the worker when it sends. The
    # request that queues it does not pay icalendar's writing (about half a millisecond).
    calendar_spec: str | None = Field(default=None, sa_type=Text)
    # False only for messages queued before sealing (migration 0042): sent as they are.
    sealed: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    send_after: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    # A worker sending it holds it until then; after, another may take it (the first died).
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=1000)
