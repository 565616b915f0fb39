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
) -> None:
    """Queue one email in the session's transaction. The subject stays readable (what the
    worker logs and an operator sees): never put a secret in it."""
    (row,) = messages_to(settings, kind, [to_address], subject, body)
    session.add(OutboxMessage(**row))


def messages_to(
    settings: Settings,
    kind: str,
    addresses: Sequence[str],
    subject: str,
    body: str,
    *,
    calendar_spec: str | None = None,
) -> list[dict[str, Any]]:
    """The rows of one email to each of `addresses`, for a write transaction to insert
    (`OutboxMessage`), its text sealed once for all of them. `calendar_spec`: an invitation's
    calendar part, written by the worker when it sends (`app.calendar_feeds.mail.render`),
    sealed as the text is. (The `calendar` column holds parts written by a release before
    migration 0045; nothing writes it now.)"""
    if not addresses:
        return []
    key = settings.secret_key
    sealed_body = seal(key, body)
    sealed_spec = None if calendar_spec is None else seal(key, calendar_spec)
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
