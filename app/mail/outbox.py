"""Queue an email with the change that causes it: it is written in the caller's transaction, so
it goes out if and only if the change commits, and is never sent from inside the request. Its
text and calendar part are sealed (app/mail/sealing.py)."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.writes import new_row
from app.mail.models import OutboxMessage
from app.mail.sealing import seal


def enqueue(
    session: AsyncSession,
    settings: Settings,
    kind: str,
    to_address: str,
    subject: str,
    body: str,
    *,
    calendar: str | None = None,
) -> None:
    """`calendar`: an iCalendar object sent along (an invitation: its METHOD is REQUEST). The
    subject stays readable (what the worker logs and an operator sees): never put a secret
    in it."""
    session.add(OutboxMessage(**message(settings, kind, to_address, subject, body, calendar)))


def message(
    settings: Settings,
    kind: str,
    to_address: str,
    subject: str,
    body: str,
    calendar: str | None = None,
) -> dict[str, Any]:
    """`enqueue`'s row, for a write transaction to insert (`OutboxMessage`)."""
    key = settings.secret_key
    return new_row(
        OutboxMessage,
        kind=kind,
        to_address=to_address,
        subject=subject,
        body=seal(key, body),
        calendar=None if calendar is None else seal(key, calendar),
        sealed=True,
    )
