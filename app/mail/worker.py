"""Deliver the outbox to the SMTP server in settings: at least once, never from a request.

A worker claims a batch of due messages (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so
workers on several hosts never take the same message; on SQLite the write lock serialises
them) and holds each for `LEASE`. It sends each and marks it sent; a failure is retried with
exponential backoff (up to `MAX_ATTEMPTS`). A worker that dies mid-batch leaves its claims to
expire and another sends them: a message may then go twice, each time with the same
`Message-ID` (`<id@peercoach>`), by which mail systems recognise the copy."""

from __future__ import annotations

import asyncio
import logging
import re
import smtplib
import ssl
import time
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlmodel import col

from app.calendar_feeds.mail import render
from app.core.config import Settings
from app.core.db import Database, utcnow
from app.mail.models import OutboxMessage
from app.mail.sealing import Unreadable, unseal

LEASE = timedelta(minutes=5)
REMINDER_SECONDS = 60  # how often reminders are looked for
MAX_ATTEMPTS = 12
log = logging.getLogger("peercoach.mail")


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... up to 6 hours between tries."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def _email(settings: Settings, m: OutboxMessage) -> EmailMessage:
    """The message as sent (its sealed parts opened, an invitation's calendar part written:
    `Unreadable` when they cannot be)."""
    body, calendar, spec = m.body, m.calendar, m.calendar_spec
    if m.sealed:
        body = unseal(settings.secret_key, body)
        calendar = None if calendar is None else unseal(settings.secret_key, calendar)
        spec = None if spec is None else unseal(settings.secret_key, spec)
    if spec is not None:
        try:
            calendar = render(spec)
        except (ValueError, LookupError) as exc:  # not a spec this release can write
            raise Unreadable(f"calendar part not written: {type(exc).__name__}") from exc
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = m.to_address
    msg["Subject"] = m.subject
    msg["Message-ID"] = f"<{m.id}@peercoach>"
    msg["Date"] = format_datetime(m.created_at)
    msg.set_content(body)
    if calendar:
        # As calendar apps expect an invitation: the text, the same as text/calendar (which
        # Google and Outlook show with its buttons), and the file for the rest.
        found = re.search(r"^METHOD:(\w+)", calendar, re.MULTILINE)
        method = found.group(1) if found else "PUBLISH"
        msg.add_alternative(calendar, subtype="calendar", params={"method": method})
        msg.add_attachment(
            calendar.encode(),
            maintype="application",
            subtype="ics",
            filename="invite.ics",
        )
    return msg


def _send(settings: Settings, msg: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(msg)


async def _record(db: Database, m: OutboxMessage, **values: Any) -> None:
    """What became of one message of a batch, in a transaction of its own."""
    async with db.session() as session:
        await session.execute(
            update(OutboxMessage).where(col(OutboxMessage.id) == m.id).values(**values)
        )


async def deliver_due(db: Database, settings: Settings, *, limit: int = 50) -> int:
    """Send what is due now (one batch); the number sent."""
    now = utcnow()
    async with db.session() as session:
        stmt = (
            select(OutboxMessage)
            .where(
                col(OutboxMessage.sent_at).is_(None),
                col(OutboxMessage.send_after) <= now,
                col(OutboxMessage.attempts) < MAX_ATTEMPTS,
                or_(
                    col(OutboxMessage.claimed_until).is_(None),
                    col(OutboxMessage.claimed_until) < now,
                ),
            )
            .order_by(col(OutboxMessage.send_after), col(OutboxMessage.id))
            .limit(limit)
        )
        if db.backend != "sqlite":
            stmt = stmt.with_for_update(skip_locked=True)
        batch = list((await session.execute(stmt)).scalars())
        for m in batch:
            m.claimed_until = now + LEASE
    sent = 0
    for m in batch:
        try:
            msg = _email(settings, m)
        except Unreadable as exc:  # SECRET_KEY changed while it waited: it can never go
            log.error("mail %s (%s) given up: %s", m.id, m.kind, exc)
            await _record(
                db, m, attempts=MAX_ATTEMPTS, claimed_until=None, last_error=f"not sent: {exc}"
            )
            continue
        try:
            await asyncio.to_thread(_send, settings, msg)
        except Exception as exc:  # the server refused or is down: try again later
            log.warning("mail %s to %s not sent: %s", m.id, m.kind, exc)
            await _record(
                db,
                m,
                attempts=OutboxMessage.attempts + 1,
                send_after=utcnow() + backoff(m.attempts + 1),
                claimed_until=None,
                last_error=str(exc)[:1000],
            )
            continue
        # Sent: the outbox is not an archive, and keeps nothing of what it said.
        await _record(
            db,
            m,
            sent_at=utcnow(),
            claimed_until=None,
            attempts=OutboxMessage.attempts + 1,
            body="",
            calendar=None,
            calendar_spec=None,
        )
        sent += 1
    return sent


async def run(settings: Settings, *, once: bool = False, poll_seconds: float = 5.0) -> None:
    """Fire the reminders that are due and forget expired single sign-ins (at most once a
    minute), queue the notifications people have emailed, and deliver, until stopped (`once`:
    one pass over what is due, then return)."""
    from app.auth import sso
    from app.notifications import reminders  # notifications use the outbox
    from app.notifications.service import queue_emails

    db = Database(settings)
    reminded: float | None = None
    try:
        while True:
            if reminded is None or time.monotonic() - reminded >= REMINDER_SECONDS:
                await reminders.fire(db, settings)
                await sso.forget_expired(db)
                reminded = time.monotonic()
            queued = await queue_emails(db, settings)
            sent = await deliver_due(db, settings)
            if once and sent == 0 and queued == 0:
                return
            if sent == 0 and queued == 0:
                await asyncio.sleep(poll_seconds)
    finally:
        await db.dispose()
