"""Queue an email with the change that causes it: it is written in the caller's transaction, so
it goes out if and only if the change commits, and is never sent from inside the request. Its
text and calendar part are sealed (app/mail/sealing.py)."""

from collections.abc import Sequence
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
    session.add(
        OutboxMessage(**message(settings, kind, to_address, subject, body, calendar=calendar))
    )


def message(
    settings: Settings,
    kind: str,
    to_address: str,
    subject: str,
    body: str,
    *,
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


def messages_to(
    settings: Settings,
    kind: str,
    addresses: Sequence[str],
    subject: str,
    body: str,
    *,
    calendar_spec: str,
) -> list[dict[str, Any]]:
    """The rows of one email to each of `addresses` (an invitation to an event), its text and
    calendar spec sealed once for all of them. The calendar part is written by the worker when
    it sends (`app.calendar_feeds.mail.render`), not by the request that queues it."""
    if not addresses:
        return []
    key = settings.secret_key
    sealed_body, sealed_spec = seal(key, body), seal(key, calendar_spec)
    return [
        new_row(
            OutboxMessage,
            kind=kind,
            to_address=address,
            subject=subject,
            body=sealed_body,
            calendar_spec=sealed_spec,
            sealed=True,
        )
        for address in addresses
    ]
