"""Getting imported staff in: an administrator invites, the email goes out through the outbox
to a real SMTP server on loopback (aiosmtpd), and the link's single-use token sets the
password and signs the person in."""

from __future__ import annotations

import asyncio
import re
import socket
from datetime import timedelta
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update

from app.core.db import Database, utcnow
from app.invitations.models import AccountToken
from app.mail.models import OutboxMessage
from app.mail.worker import deliver_due
from app.users.models import Role
from tests.factories import PASSWORD
from tests.teams import form_team


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield (
            inbox,
            settings.model_copy(
                update={
                    "smtp_host": "127.0.0.1",
                    "smtp_port": port,
                }
            ),
        )
    finally:
        controller.stop()


def deliver(settings) -> int:
    async def run() -> int:
        db = Database(settings)
        try:
            return await deliver_due(db, settings, limit=500)
        finally:
            await db.dispose()

    return asyncio.run(run())


def text_of(message) -> str:
    return message.get_payload(decode=True).decode()


def token_in(message) -> str:
    found = re.search(r"/activate#token=([A-Za-z0-9_-]+)", text_of(message))
    assert found, text_of(message)
    return found.group(1)


def test_an_invited_person_sets_a_password_and_is_signed_in(client, world, factory, auth, smtp):
    inbox, mail = smtp
    new = factory.user(Role.teacher, [world.school_a], email="new.teacher@example.org",
                       with_password=False)  # fmt: skip
    r = client.post(f"/api/v1/users/{new.id}/invitation", headers=auth(world.admin_a))
    assert r.status_code == 202, r.text
    assert r.json()["user_id"] == str(new.id)
    # Nothing is sent from the request: the worker delivers the outbox.
    assert inbox.to("new.teacher@example.org") == []
    assert deliver(mail) >= 1
    [message] = inbox.to("new.teacher@example.org")
    assert message["Subject"] == "You are invited to peercoach"
    assert message["Message-ID"].endswith("@peercoach>")
    token = token_in(message)
    # The token rides in the link's fragment: browsers never send it, so no log holds it.
    assert f"{mail.frontend_url}/activate#token={token}" in text_of(message)
    assert deliver(mail) == 0  # sent once
    # The token sets the password and signs in; the account says so.
    r = client.post("/api/v1/auth/activate", json={"token": token, "password": "my own passphrase"})
    assert r.status_code == 200, r.text
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.json()["activated_at"] is not None
    assert me.json()["invited_at"] is not None
    signed_in = client.post(
        "/api/v1/auth/token",
        data={"username": "new.teacher@example.org", "password": "my own passphrase"},
    )
    assert signed_in.status_code == 200
    # Used once: the same token again is refused, and so is a new invitation.
    again = client.post(
        "/api/v1/auth/activate", json={"token": token, "password": "another passphrase"}
    )
    assert again.status_code == 422
    assert again.json()["errors"][0]["type"] == "invalid_token"
    r = client.post(f"/api/v1/users/{new.id}/invitation", headers=auth(world.admin_a))
    assert r.status_code == 409


def test_inviting_again_revokes_the_earlier_link_and_links_expire(
    client, world, factory, auth, smtp, sync_engine
):
    inbox, mail = smtp
    new = factory.user(Role.teacher, [world.school_a], email="twice@example.org",
                       with_password=False)  # fmt: skip
    for _ in range(2):
        assert (
            client.post(
                f"/api/v1/users/{new.id}/invitation", headers=auth(world.admin_a)
            ).status_code
            == 202
        )
    deliver(mail)
    first, second = (token_in(m) for m in inbox.to("twice@example.org"))
    body = {"password": "a fine passphrase"}
    r = client.post("/api/v1/auth/activate", json={"token": first, **body})
    assert r.status_code == 422
    with sync_engine.begin() as conn:  # the second link's time runs out
        conn.execute(
            update(AccountToken)
            .where(AccountToken.user_id == new.id, AccountToken.revoked_at.is_(None))  # type: ignore[union-attr]
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    r = client.post("/api/v1/auth/activate", json={"token": second, **body})
    assert r.status_code == 422
    # A tampered token is the same answer as an unknown one.
    r = client.post("/api/v1/auth/activate", json={"token": second[:-2] + "xx", **body})
    assert r.status_code == 422


def test_activation_refuses_a_weak_password_and_keeps_the_token(client, world, factory, auth, smtp):
    inbox, mail = smtp
    new = factory.user(Role.teacher, [world.school_a], email="weak@example.org",
                       with_password=False)  # fmt: skip
    client.post(f"/api/v1/users/{new.id}/invitation", headers=auth(world.admin_a))
    deliver(mail)
    token = token_in(inbox.to("weak@example.org")[0])
    weak = client.post("/api/v1/auth/activate", json={"token": token, "password": "password123"})
    assert weak.status_code == 422
    ok = client.post(
        "/api/v1/auth/activate", json={"token": token, "password": "a better passphrase"}
    )
    assert ok.status_code == 200


def test_only_administrators_who_manage_the_person_invite(client, world, factory, auth):
    new = factory.user(Role.teacher, [world.school_a], with_password=False)
    assert (
        client.post(f"/api/v1/users/{new.id}/invitation", headers=auth(world.admin_b)).status_code
        == 404
    )
    assert (
        client.post(f"/api/v1/users/{new.id}/invitation", headers=auth(world.teacher_a)).status_code
        == 403
    )
    gone = factory.user(Role.teacher, [world.school_a], with_password=False, is_active=False)
    assert (
        client.post(f"/api/v1/users/{gone.id}/invitation", headers=auth(world.admin_a)).status_code
        == 409
    )


def test_mail_waits_while_the_server_is_down_and_goes_out_after(
    client, world, factory, auth, settings, sync_engine
):
    new = factory.user(Role.teacher, [world.school_a], email="later@example.org",
                       with_password=False)  # fmt: skip
    client.post(f"/api/v1/users/{new.id}/invitation", headers=auth(world.admin_a))
    down = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": _free_port()})
    assert deliver(down) == 0
    with sync_engine.connect() as conn:
        row = (
            conn.execute(
                OutboxMessage.__table__.select().where(  # type: ignore[attr-defined]
                    OutboxMessage.to_address == "later@example.org"
                )
            )
            .mappings()
            .one()
        )
    assert row["sent_at"] is None
    assert row["attempts"] == 1
    assert row["last_error"]
    assert row["send_after"] > utcnow()  # backed off, not lost


def reset_token_in(message) -> str:
    found = re.search(r"/reset-password#token=([A-Za-z0-9_-]+)", text_of(message))
    assert found, text_of(message)
    return found.group(1)


def test_forgot_my_password_answers_the_same_and_the_link_ends_other_sessions(
    client, world, factory, auth, smtp
):
    inbox, mail = smtp
    known = factory.user(Role.teacher, [world.school_a], email="forgot@example.org")
    old_session = auth(known)
    assert client.get("/api/v1/me", headers=old_session).status_code == 200
    answers = [
        client.post("/api/v1/auth/password-reset", json={"email": email})
        for email in ("FORGOT@example.org", "nobody.here@example.org")
    ]
    assert [(r.status_code, r.content) for r in answers] == [(202, b""), (202, b"")]
    deliver(mail)
    assert inbox.to("nobody.here@example.org") == []
    [message] = inbox.to("forgot@example.org")
    token = reset_token_in(message)
    # An invitation's door does not take a reset token, nor the other way round.
    wrong = client.post(
        "/api/v1/auth/activate", json={"token": token, "password": "brand new passphrase"}
    )
    assert wrong.status_code == 422
    r = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "password": "brand new passphrase"},
    )
    assert r.status_code == 200, r.text
    assert client.get("/api/v1/me", headers=old_session).status_code == 401  # ended
    fresh = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.get("/api/v1/me", headers=fresh).status_code == 200
    again = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "password": "yet another passphrase"},
    )
    assert again.status_code == 422


def test_reset_requests_are_throttled_per_address(client, world, factory, settings):
    factory.user(Role.teacher, [world.school_a], email="spam.me@example.org")
    codes = [
        client.post(
            "/api/v1/auth/password-reset", json={"email": "spam.me@example.org"}
        ).status_code
        for _ in range(settings.login_max_failures + 1)
    ]
    assert codes[:-1] == [202] * settings.login_max_failures
    assert codes[-1] == 429


def test_an_administrator_sends_a_reset_link_and_never_sees_the_password(
    client, world, factory, auth, smtp
):
    inbox, mail = smtp
    person = factory.user(Role.teacher, [world.school_a], email="locked.out@example.org")
    r = client.post(f"/api/v1/users/{person.id}/password-reset", headers=auth(world.admin_a))
    assert r.status_code == 202
    assert set(r.json()) == {"user_id", "expires_at"}  # no token, no password
    deliver(mail)
    token = reset_token_in(inbox.to("locked.out@example.org")[0])
    assert token not in r.text
    ok = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "password": "chosen by me alone"},
    )
    assert ok.status_code == 200


def test_inviting_everyone_not_yet_signing_in(client, world, factory, auth, smtp):
    """After a roster import: a school administrator invites everyone of their school who has
    not set a password; the list of who has not activated shrinks as people do."""
    inbox, mail = smtp
    fresh = [
        factory.user(
            Role.teacher, [world.school_a], email=f"bulk{i}@example.org", with_password=False
        )
        for i in range(3)
    ]
    other_school = factory.user(Role.teacher, [world.school_b], email="bulk.b@example.org",
                                with_password=False)  # fmt: skip
    a = auth(world.admin_a)
    waiting = client.get(
        f"/api/v1/users?activated=false&school_id={world.school_a.id}", headers=a
    ).json()
    assert {u["email"] for u in waiting["items"]} >= {u.email for u in fresh}
    r = client.post("/api/v1/invitations", headers=a, json={"school_id": str(world.school_a.id)})
    assert r.status_code == 202, r.text
    assert r.json()["invited"] >= 3
    r = client.post(
        "/api/v1/invitations",
        headers=a,
        json={"user_ids": [str(fresh[0].id), str(other_school.id), str(world.teacher_a.id)]},
    )
    # Not theirs to invite, or already signing in: skipped, named.
    assert r.json()["invited"] == 1
    assert r.json()["skipped_ids"] == [str(other_school.id), str(world.teacher_a.id)]
    deliver(mail)
    assert len(inbox.to("bulk1@example.org")) == 1
    assert inbox.to("bulk.b@example.org") == []
    # The earlier link of bulk0 was revoked by the second invitation; the newer one works.
    first, second = (token_in(m) for m in inbox.to("bulk0@example.org"))
    body = {"password": "a fine passphrase"}
    assert client.post("/api/v1/auth/activate", json={"token": first, **body}).status_code == 422
    assert client.post("/api/v1/auth/activate", json={"token": second, **body}).status_code == 200
    waiting = client.get(f"/api/v1/users?activated=false&school_id={world.school_a.id}", headers=a)
    assert "bulk0@example.org" not in {u["email"] for u in waiting.json()["items"]}
    done = client.get("/api/v1/users?activated=true&q=bulk0", headers=a).json()["items"]
    assert [u["email"] for u in done] == ["bulk0@example.org"]
    teacher = client.post("/api/v1/invitations", headers=auth(world.teacher_a), json={})
    assert teacher.status_code == 403


def test_a_roster_import_invites_the_people_it_creates(client, world, auth, smtp):
    """`invite_new`: every person the import creates gets an invitation; people it only
    updates, and a dry run, get none."""
    inbox, mail = smtp
    school = world.school_a.name
    csv = (
        "email,given name,family name,role,school\n"
        f"imported.one@example.org,One,Imported,teacher,{school}\n"
        f"imported.two@example.org,Two,Imported,teacher,{school}\n"
    ).encode()
    files = [("file", ("staff.csv", csv, "text/csv"))]
    h = auth(world.district_admin)
    dry = client.post(
        "/api/v1/roster-imports",
        headers=h,
        files=files,
        data={"invite_new": "true", "dry_run": "true"},
    )
    assert (dry.status_code, dry.json()["invited"]) == (201, 0)
    r = client.post("/api/v1/roster-imports", headers=h, files=files, data={"invite_new": "true"})
    assert r.status_code == 201, r.text
    assert (r.json()["created"], r.json()["invited"]) == (2, 2)
    again = client.post(
        "/api/v1/roster-imports", headers=h, files=files, data={"invite_new": "true"}
    )
    assert (again.json()["unchanged"], again.json()["invited"]) == (2, 0)
    deliver(mail)
    for who in ("imported.one@example.org", "imported.two@example.org"):
        assert len(inbox.to(who)) == 1
    token = token_in(inbox.to("imported.one@example.org")[0])
    ok = client.post(
        "/api/v1/auth/activate", json={"token": token, "password": "first day passphrase"}
    )
    assert ok.status_code == 200
    # The JSON import too.
    body = {
        "people": [{"email": "imported.three@example.org", "given_name": "Three",
                    "family_name": "Imported", "role": "teacher", "school": school}],
        "invite_new": True,
    }  # fmt: skip
    r = client.post("/api/v1/roster-imports/json", headers=h, json=body)
    assert (r.status_code, r.json()["invited"]) == (201, 1)


def test_an_administrator_cannot_take_over_a_teacher_by_changing_their_email(
    client, world, factory, auth, smtp
):
    """The path an administrator might try to a team's records: point a member's account at
    their own address, then ask for a reset link. No link goes out, by either door, until the
    teacher sets their password again themselves."""
    inbox, mail = smtp
    form_team(client, auth, world.teacher_a, world.teacher_a2)
    member = world.teacher_a2  # on the team: reads its records
    h = auth(world.admin_a)
    r = client.patch(
        f"/api/v1/users/{member.id}", headers=h, json={"email": "admin.mailbox@example.org"}
    )
    assert r.status_code == 200, r.text
    asked = client.post("/api/v1/auth/password-reset", json={"email": "admin.mailbox@example.org"})
    assert asked.status_code == 202  # the same answer as ever...
    forced = client.post(f"/api/v1/users/{member.id}/password-reset", headers=h)
    assert forced.status_code == 409
    deliver(mail)
    assert inbox.to("admin.mailbox@example.org") == []  # ...and nothing sent
    invited = client.post(f"/api/v1/users/{member.id}/invitation", headers=h)
    assert invited.status_code == 409  # an account in use is not re-invited either
    # The teacher, signed in, sets their password: the address is theirs to use from then on.
    changed = client.post(
        "/api/v1/me/password",
        headers=auth(member),
        json={"current_password": PASSWORD, "new_password": "my own new passphrase"},
    )
    assert changed.status_code == 200
    assert client.post(f"/api/v1/users/{member.id}/password-reset", headers=h).status_code == 202


def test_a_roster_changing_an_email_holds_back_reset_links_too(client, world, factory, auth, smtp):
    inbox, mail = smtp
    person = factory.user(
        Role.teacher, [world.school_a], email="roster.moved@example.org", sourced_id="T-77"
    )
    csv = (
        "email,given name,family name,role,school,staff id\n"
        f"roster.new@example.org,R,M,teacher,{world.school_a.name},T-77\n"
    ).encode()
    r = client.post(
        "/api/v1/roster-imports",
        headers=auth(world.district_admin),
        files=[("file", ("staff.csv", csv, "text/csv"))],
    )
    assert r.json()["updated"] == 1, r.text
    client.post("/api/v1/auth/password-reset", json={"email": "roster.new@example.org"})
    deliver(mail)
    assert inbox.to("roster.new@example.org") == []
    assert (
        client.post(
            f"/api/v1/users/{person.id}/password-reset", headers=auth(world.district_admin)
        ).status_code
        == 409
    )
