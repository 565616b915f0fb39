"""The outbox keeps no usable link in the clear: an email's text and calendar part are sealed
with a key derived from SECRET_KEY until the worker sends them, and emptied once sent. A copy of
the database (a backup, a replica) gives nobody an activation or reset link, as the hashed
tokens promise."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlmodel import Session

from app.mail import sealing
from app.mail.models import OutboxMessage
from app.mail.worker import MAX_ATTEMPTS
from app.users.models import Role
from tests.test_invitations import (  # noqa: F401 (smtp: a fixture)
    deliver,
    reset_token_in,
    smtp,
    token_in,
)


def _rows(sync_engine, address: str) -> list[OutboxMessage]:
    with Session(sync_engine) as s:
        found = s.execute(select(OutboxMessage).where(OutboxMessage.to_address == address))
        return list(found.scalars())


def test_an_invitation_waits_sealed_and_is_emptied_once_sent(
    client,
    world,
    factory,
    auth,
    smtp,  # noqa: F811
    sync_engine,
):
    inbox, mail = smtp
    new = factory.user(Role.teacher, [world.school_a], email="sealed@example.org",
                       with_password=False)  # fmt: skip
    r = client.post(f"/api/v1/users/{new.id}/invitation", headers=auth(world.admin_a))
    assert r.status_code == 202, r.text
    [waiting] = _rows(sync_engine, "sealed@example.org")
    assert waiting.sealed
    assert "activate" not in waiting.body
    assert "Hello" not in waiting.body
    assert waiting.subject == "You are invited to peercoach"  # never a secret in it
    deliver(mail)
    [message] = inbox.to("sealed@example.org")
    token = token_in(message)
    assert token not in waiting.body  # what a copy of the database held before it went
    [sent] = _rows(sync_engine, "sealed@example.org")
    assert sent.sent_at is not None
    assert (sent.body, sent.calendar, sent.calendar_spec) == ("", None, None)
    # The link works: sealing changed what is stored, not what is sent.
    r = client.post("/api/v1/auth/activate", json={"token": token, "password": "my own passphrase"})
    assert r.status_code == 200, r.text


def test_a_reset_link_is_never_stored_in_the_clear(
    client,
    world,
    factory,
    smtp,  # noqa: F811
    sync_engine,
):
    inbox, mail = smtp
    factory.user(Role.teacher, [world.school_a], email="reset.sealed@example.org")
    r = client.post("/api/v1/auth/password-reset", json={"email": "reset.sealed@example.org"})
    assert r.status_code == 202
    [waiting] = _rows(sync_engine, "reset.sealed@example.org")
    assert waiting.sealed
    assert "reset-password" not in waiting.body
    deliver(mail)
    token = reset_token_in(inbox.to("reset.sealed@example.org")[0])
    assert token not in waiting.body
    [sent] = _rows(sync_engine, "reset.sealed@example.org")
    assert sent.body == ""


def test_a_message_sealed_under_another_key_is_given_up_and_the_rest_go(
    settings,
    smtp,  # noqa: F811
    sync_engine,
):
    inbox, mail = smtp
    other = "a-different-secret-key-the-server-had-before-0123456789"
    with Session(sync_engine) as s:
        s.add_all(
            [
                OutboxMessage(
                    kind="drill",
                    to_address="old.key@example.org",
                    subject="Before the key changed",
                    body=sealing.seal(other, "Hello from before"),
                    sealed=True,
                ),
                OutboxMessage(
                    kind="drill",
                    to_address="this.key@example.org",
                    subject="After",
                    body=sealing.seal(settings.secret_key, "Hello from now"),
                    sealed=True,
                ),
                # Queued before sealing existed (migration 0042): sent as it is.
                OutboxMessage(
                    kind="drill",
                    to_address="clear@example.org",
                    subject="Older still",
                    body="Hello in the clear",
                ),
            ]
        )
        s.commit()
    assert deliver(mail) == 2
    assert inbox.to("old.key@example.org") == []
    [now] = inbox.to("this.key@example.org")
    assert "Hello from now" in now.get_payload(decode=True).decode()
    [clear] = inbox.to("clear@example.org")
    assert "Hello in the clear" in clear.get_payload(decode=True).decode()
    [given_up] = _rows(sync_engine, "old.key@example.org")
    assert given_up.sent_at is None
    assert given_up.attempts == MAX_ATTEMPTS  # never tried again
    assert "SECRET_KEY" in (given_up.last_error or "")
    assert deliver(mail) == 0


def _spec_in_unknown_zone() -> str:
    from datetime import UTC, datetime, timedelta

    from app.calendar_feeds.ics import Attendee, CalendarEvent
    from app.calendar_feeds.mail import CalendarSpec

    now = datetime.now(UTC)
    event = CalendarEvent(
        id=uuid.uuid4(), kind="observation", title=None, team_id=uuid.uuid4(), team_name="T",
        starts_at=now, ends_at=now + timedelta(hours=1), location=None, status="scheduled",
        version=1, updated_at=now, time_zone="Nowhere/Zone",
        attendees=(Attendee(given_name="X", family_name="Y", email="x@example.org"),),
    )  # fmt: skip
    return CalendarSpec(
        name="Peer coaching", method="REQUEST", organizer="p@example.org", link="l", event=event
    ).model_dump_json()


@pytest.mark.parametrize(
    "unreadable",
    [
        '{"name": "Peer coaching", "method": "REQUEST", "attendee": "x@example.org"}',
        _spec_in_unknown_zone(),
    ],
    ids=["another shape", "unknown zone"],
)
def test_a_calendar_part_the_worker_cannot_write_is_given_up_without_quoting_it(
    settings,
    smtp,  # noqa: F811
    sync_engine,
    unreadable,
):
    """An invitation whose calendar spec this release cannot write (a release that wrote
    another shape, a damaged row) is given up, and the reason names no attendee."""
    inbox, mail = smtp
    address = f"spec.{uuid.uuid4().hex[:8]}@example.org"
    with Session(sync_engine) as s:
        s.add(
            OutboxMessage(
                kind="event_request",
                to_address=address,
                subject="Invitation: Observation",
                body=sealing.seal(settings.secret_key, "You are invited"),
                calendar_spec=sealing.seal(settings.secret_key, unreadable),
                sealed=True,
            )
        )
        s.commit()
    assert deliver(mail) == 0
    assert inbox.to(address) == []
    [given_up] = _rows(sync_engine, address)
    assert given_up.sent_at is None
    assert given_up.attempts == MAX_ATTEMPTS
    assert "calendar part not written" in (given_up.last_error or "")
    assert "x@example.org" not in (given_up.last_error or "")


def test_sealing_round_trips_and_hides_the_text():
    key = "k" * 48
    sealed = sealing.seal(key, "activate#token=abc")
    assert "token" not in sealed
    assert sealing.seal(key, "activate#token=abc") != sealed  # a fresh IV each time
    assert sealing.unseal(key, sealed) == "activate#token=abc"
    with pytest.raises(sealing.Unreadable):
        sealing.unseal("j" * 48, sealed)
