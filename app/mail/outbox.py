"""Queue an email with the change that causes it: it is written in the caller's transaction, so
it goes out if and only if the change commits, and is never sent from inside the request."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.mail.models import OutboxMessage


def enqueue(
    session: AsyncSession,
    kind: str,
    to_address: str,
    subject: str,
    body: str,
    *,
    calendar: str | None = None,
) -> None:
    """`calendar`: an iCalendar object sent along (an invitation: its METHOD is REQUEST)."""
    session.add(
        OutboxMessage(
            kind=kind, to_address=to_address, subject=subject, body=body, calendar=calendar
        )
    )
