"""Notifications: who is told what (and never the one who acted), reading and marking one's
own, per-kind email settings, and the worker turning them into emails once each; a line and a
link, never a note."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from app.core.db import Database
from app.notifications import reminders
from app.notifications.models import NotificationKind
from app.notifications.service import Message, Recipients, queue_emails, tell_each
from app.school_years.models import SchoolYear
from tests.coaching.test_calendar_feeds import days_ahead, post_event
from tests.test_invitations import deliver, smtp, text_of  # noqa: F401 (a fixture)

NOTE = "PRIVATE-COMMENT-WALRUS-9"


def mine(client, headers, **params) -> list[dict]:
    """The caller's notifications, but the invitation to the team every fixture sends."""
    r = client.get("/api/v1/notifications", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return [n for n in r.json()["items"] if n["kind"] != "team_invitation"]


def email_off(client, headers, kind: str) -> None:
    """The caller asks no email of `kind` (the app still tells them)."""
    r = client.patch(
        "/api/v1/me/notification-settings", headers=headers, json={"email": {kind: False}}
    )
    assert r.status_code == 200, r.text


def kinds(items) -> list[str]:
    return [n["kind"] for n in items]


def move_plan(client, auth, team, who, action, **body):
    r = client.post(
        f"/api/v1/teams/{team['id']}/plan/transitions",
        headers={**auth(who), "If-Match": "*"},
        json={"action": action, **body},
    )
    assert r.status_code == 200, r.text


def test_a_plan_submitted_tells_its_administrators_and_a_decision_tells_the_team(
    client, team, world, auth
):
    move_plan(client, auth, team, world.teacher_a, "submit")
    (submitted,) = mine(client, auth(world.admin_a))
    assert submitted["kind"] == "plan_submitted"
    assert submitted["link"] == f"/teams/{team['id']}/plan"
    assert team["name"] in submitted["title"]
    assert mine(client, auth(world.admin_b)) == []  # another school's administrator
    assert mine(client, auth(world.teacher_a)) == []  # not the one who acted
    move_plan(client, auth, team, world.admin_a, "return", comment="Say more about the target")
    for member in (world.teacher_a, world.teacher_a2):
        assert kinds(mine(client, auth(member))) == ["plan_returned"]
        assert "Say more" not in str(mine(client, auth(member)))


def test_reading_and_marking_ones_own(client, team, world, auth):
    a2 = auth(world.teacher_a2)
    (invited,) = client.get("/api/v1/notifications", headers=a2).json()["items"]
    assert invited["kind"] == "team_invitation"
    assert client.post("/api/v1/notifications/read-all", headers=a2).json() == {"marked": 1}
    post_event(client, auth(world.teacher_a), team, kind="pre_conference", **days_ahead(2))
    post_event(client, auth(world.teacher_a), team, kind="other", title="Lesson study",
               **days_ahead(3))  # fmt: skip
    items = mine(client, a2)
    assert kinds(items) == ["event_scheduled", "event_scheduled"]
    assert items[0]["title"].startswith("Lesson study")
    assert client.get("/api/v1/notifications/unread-count", headers=a2).json() == {"unread": 2}
    first = items[0]["id"]
    # Someone else's is not there.
    other = client.post(f"/api/v1/notifications/{first}/read", headers=auth(world.teacher_a))
    assert other.status_code == 404
    read = client.post(f"/api/v1/notifications/{first}/read", headers=a2)
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert [n["id"] for n in mine(client, a2, unread="true")] == [items[1]["id"]]
    assert client.post("/api/v1/notifications/read-all", headers=a2).json() == {"marked": 1}
    assert client.get("/api/v1/notifications/unread-count", headers=a2).json() == {"unread": 0}


def test_a_comment_tells_the_author_without_its_text(client, team, world, auth):
    post = client.post(
        "/api/v1/reflections",
        headers=auth(world.teacher_a),
        json={"title": "What I saw", "body": "b", "visibility": "team", "team_id": team["id"]},
    )
    assert post.status_code == 201, post.text
    said = client.post(
        f"/api/v1/reflections/{post.json()['id']}/comments",
        headers=auth(world.teacher_a2),
        json={"body": NOTE},
    )
    assert said.status_code == 201, said.text
    (told,) = mine(client, auth(world.teacher_a))
    assert told["kind"] == "reflection_comment"
    assert NOTE not in str(told)


def test_a_comment_is_emailed_to_its_author_as_they_chose_and_never_to_its_writer(
    client,
    team,
    world,
    auth,
    smtp,  # noqa: F811
):
    """The comment's write reads the author's choice with the post (not with a statement of
    its own): emailed unless they chose the app only; their own comment tells no one."""
    inbox, mail = smtp
    a, a2 = auth(world.teacher_a), auth(world.teacher_a2)
    queue(mail)  # the fixture's invitation to the team
    post = client.post(
        "/api/v1/reflections",
        headers=a,
        json={"title": "What I saw", "body": "b", "visibility": "team", "team_id": team["id"]},
    ).json()
    url = f"/api/v1/reflections/{post['id']}/comments"
    assert client.post(url, headers=a, json={"body": "my own note"}).status_code == 201
    assert [n for n in mine(client, a) if n["kind"] == "reflection_comment"] == []
    assert client.post(url, headers=a2, json={"body": NOTE}).status_code == 201
    assert queue(mail) == 1
    off = client.patch(
        "/api/v1/me/notification-settings", headers=a, json={"email": {"reflection_comment": False}}
    )
    assert off.status_code == 200, off.text
    assert client.post(url, headers=a2, json={"body": NOTE}).status_code == 201
    assert queue(mail) == 0  # the app only
    told = [n for n in mine(client, a) if n["kind"] == "reflection_comment"]
    assert len(told) == 2
    deliver(mail)
    (emailed,) = [m for m in inbox.to(world.teacher_a.email) if "comment" in m["Subject"]]
    assert NOTE not in text_of(emailed)


def queue(settings) -> int:
    async def run() -> int:
        db = Database(settings)
        try:
            return await queue_emails(db, settings)
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_emails_follow_each_persons_settings_and_go_once(
    client,
    team,
    world,
    auth,
    smtp,  # noqa: F811
):
    inbox, mail = smtp
    a2 = auth(world.teacher_a2)
    assert queue(mail) == 1  # the fixture's invitation to the team
    deliver(mail)
    inbox.messages.clear()
    settings = client.get("/api/v1/me/notification-settings", headers=a2).json()["settings"]
    assert all(s["email"] for s in settings)
    off = client.patch(
        "/api/v1/me/notification-settings", headers=a2, json={"email": {"plan_returned": False}}
    )
    assert off.status_code == 200, off.text
    assert {s["kind"]: s["email"] for s in off.json()["settings"]}["plan_returned"] is False
    bad = client.patch(
        "/api/v1/me/notification-settings", headers=a2, json={"email": {"made_up": False}}
    )
    assert bad.status_code == 422
    move_plan(client, auth, team, world.teacher_a, "submit")
    move_plan(client, auth, team, world.admin_a, "return", comment="more")
    assert queue(mail) == 2  # the administrator's and teacher A's (A2 chose the app only)
    assert queue(mail) == 0  # each once
    deliver(mail)
    assert inbox.to(world.teacher_a2.email) == []  # they chose the app only
    (returned,) = inbox.to(world.teacher_a.email)
    assert "action plan returned" in returned["Subject"]
    assert f"/teams/{team['id']}/plan" in text_of(returned)
    assert "more" not in returned["Subject"]
    (submitted,) = inbox.to(world.admin_a.email)
    assert "submitted" in submitted["Subject"]


def fire(settings, now=None) -> None:
    async def run() -> None:
        db = Database(settings)
        try:
            await reminders.fire(db, settings, now)
        finally:
            await db.dispose()

    asyncio.run(run())


def test_an_event_is_reminded_of_once_and_again_when_it_moves(client, team, world, auth, settings):
    a, a2 = auth(world.teacher_a), auth(world.teacher_a2)
    soon = (datetime.now(UTC) + timedelta(hours=10)).replace(microsecond=0)
    event = post_event(
        client, a, team, kind="pre_conference", title="Planning",
        starts_at=soon.isoformat(), ends_at=(soon + timedelta(hours=1)).isoformat(),
    )  # fmt: skip
    later = post_event(client, a, team, kind="other", title="Far off", **days_ahead(5))
    fire(settings)
    fire(settings)  # a second pass (or a second worker) fires nothing again
    reminders_of = [n for n in mine(client, a2) if n["kind"] == "event_reminder"]
    assert len(reminders_of) == 1
    assert reminders_of[0]["title"].startswith("Reminder: Planning")
    assert reminders_of[0]["link"] == f"/events/{event['id']}"
    assert later["id"] not in str(reminders_of)
    assert len([n for n in mine(client, a) if n["kind"] == "event_reminder"]) == 1
    moved = soon + timedelta(hours=2)
    r = client.patch(
        f"/api/v1/events/{event['id']}",
        headers={**a, "If-Match": "*"},
        json={"starts_at": moved.isoformat(), "ends_at": (moved + timedelta(hours=1)).isoformat()},
    )
    assert r.status_code == 200, r.text
    fire(settings)
    assert len([n for n in mine(client, a2) if n["kind"] == "event_reminder"]) == 2


def test_a_plan_past_its_due_date_and_coverage_still_pending_are_reminded(
    client, team, world, auth, settings, sync_engine
):
    a = auth(world.teacher_a)
    with Session(sync_engine) as s:
        s.add(SchoolYear(label=team["school_year"], starts_on=date(2026, 8, 1),
                         ends_on=date(2027, 7, 31),
                         plan_due_on=date.today() - timedelta(days=3)))  # fmt: skip
        s.commit()
    fire(settings)
    for member in (world.teacher_a, world.teacher_a2):
        (late,) = [n for n in mine(client, auth(member)) if n["kind"] == "plan_overdue"]
        assert "not submitted" in late["title"]
    fire(settings)
    assert len([n for n in mine(client, a) if n["kind"] == "plan_overdue"]) == 1
    # Coverage: asked for, not arranged, two days before the observation.
    move_plan(client, auth, team, world.teacher_a, "submit")
    move_plan(client, auth, team, world.admin_a, "approve")
    obs = post_event(
        client, a, team, kind="observation", **days_ahead(2),
        observer_id=str(world.teacher_a.id), observed_id=str(world.teacher_a2.id),
    )  # fmt: skip
    asked = client.post(
        "/api/v1/coverage-requests", headers=a, json={"event_id": obs["id"], "note": "please"}
    )
    assert asked.status_code == 201, asked.text
    fire(settings)
    fire(settings)
    pending = [n for n in mine(client, auth(world.admin_a)) if n["kind"] == "coverage_pending"]
    assert len(pending) == 1
    assert mine(client, auth(world.admin_b)) == []


def test_an_answered_support_request_and_coverage_to_review_are_told(client, team, world, auth):
    a = auth(world.teacher_a)
    asked = client.post(
        "/api/v1/support-requests",
        headers=a,
        json={"kind": "resources", "subject": "Books", "message": "Leveled readers?"},
    )
    assert asked.status_code == 201, asked.text
    answered = client.post(
        f"/api/v1/support-requests/{asked.json()['id']}/answer",
        headers=auth(world.admin_a),
        json={"answer": "SECRET-ANSWER-TEXT"},
    )
    assert answered.status_code == 200, answered.text
    (told,) = [n for n in mine(client, a) if n["kind"] == "support_answered"]
    assert "SECRET-ANSWER-TEXT" not in str(told)
    # Coverage arranged, then the observation moves: the administrators review it again.
    move_plan(client, auth, team, world.teacher_a, "submit")
    move_plan(client, auth, team, world.admin_a, "approve")
    obs = post_event(
        client, a, team, kind="observation", **days_ahead(6),
        observer_id=str(world.teacher_a.id), observed_id=str(world.teacher_a2.id),
    )  # fmt: skip
    request = client.post(
        "/api/v1/coverage-requests", headers=a, json={"event_id": obs["id"], "note": "x"}
    ).json()
    arranged = client.post(
        f"/api/v1/coverage-requests/{request['id']}/arrange",
        headers={**auth(world.admin_a), "If-Match": "*"},
        json={"covered_by": "Ms. Rivera"},
    )
    assert arranged.status_code == 200, arranged.text
    assert [n["kind"] for n in mine(client, a) if n["kind"].startswith("coverage")] == [
        "coverage_arranged"
    ]
    moved = client.patch(
        f"/api/v1/events/{obs['id']}", headers={**a, "If-Match": "*"}, json=days_ahead(7)
    )
    assert moved.status_code == 200, moved.text
    review = [n for n in mine(client, auth(world.admin_a)) if n["kind"] == "coverage_needs_review"]
    assert len(review) == 1
    assert review[0]["link"] == f"/coverage-requests/{request['id']}"


def _statements_of_a_pass(settings) -> list[str]:
    """The statements one reminders pass runs (besides BEGIN and COMMIT)."""
    from sqlalchemy import event as sa_event

    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            seen.append(statement)

    async def run() -> None:
        db = Database(settings)
        sa_event.listen(db.engine.sync_engine, "before_cursor_execute", record)
        try:
            await reminders.fire(db, settings)
        finally:
            await db.dispose()

    asyncio.run(run())
    return seen


def test_a_pass_of_reminders_runs_the_same_statements_however_many_are_due(
    client, team, world, auth, settings
):
    """Each due reminder used to cost its own statements (its key, its people, its team's
    zone, its recipients, its notifications); a burst of events starting at the same hour
    tomorrow made one pass thousands of statements inside the write lock. Now a pass runs a
    fixed number, and every participant is still told of each of their events once."""
    a, a2 = auth(world.teacher_a), auth(world.teacher_a2)
    base = (datetime.now(UTC) + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)

    def schedule(first: int, count: int) -> list[str]:
        ids = []
        for i in range(first, first + count):
            start = base + timedelta(hours=i)
            made = post_event(
                client, a, team, kind="other", title=f"Planning {i}",
                starts_at=start.isoformat(), ends_at=(start + timedelta(minutes=30)).isoformat(),
            )  # fmt: skip
            ids.append(made["id"])
        return ids

    schedule(0, 2)
    few = _statements_of_a_pass(settings)
    assert len([n for n in mine(client, a2) if n["kind"] == "event_reminder"]) == 2
    ids = schedule(2, 9)
    many = _statements_of_a_pass(settings)
    assert len(many) == len(few), (few, many)
    again = _statements_of_a_pass(settings)  # nothing new: the keys are tried, nothing fires
    assert len(again) < len(few)
    told = [n for n in mine(client, a2, limit=100) if n["kind"] == "event_reminder"]
    assert sorted(n["link"] for n in told if n["link"].split("/")[-1] in ids) == sorted(
        f"/events/{i}" for i in ids
    )
    assert len(told) == 11  # each event once, to each participant but none twice
    first = base.astimezone(ZoneInfo("America/Chicago"))  # the team's school's zone
    (planning,) = [n for n in told if n["title"].startswith("Reminder: Planning 0 ")]
    assert planning["title"].endswith(f"on {first:%A %d %B at %H:%M}")
    assert len([n for n in mine(client, a, limit=100) if n["kind"] == "event_reminder"]) == 11


def test_event_notifications_follow_each_persons_email_setting_per_kind(
    client,
    team,
    world,
    auth,
    smtp,  # noqa: F811
):
    """An event's participants are read with whether each asked no email of the kind told
    (one statement): scheduled, moved and cancelled each follow the person's own setting."""
    _, mail = smtp
    queue(mail)  # the fixture's invitation to the team
    a, a2 = auth(world.teacher_a), auth(world.teacher_a2)
    email_off(client, a2, "event_moved")
    event = post_event(client, a, team, kind="other", title="Lesson study", **days_ahead(3))
    assert queue(mail) == 1  # A2's, scheduled (A acted: not told)
    url = f"/api/v1/events/{event['id']}"
    moved = client.patch(url, headers={**a, "If-Match": "*"}, json={"location": "Room 12"})
    assert moved.status_code == 200, moved.text
    assert queue(mail) == 0  # moved: A2 chose the app only
    cancelled = client.post(f"{url}/cancel", headers={**a, "If-Match": "*"}, json={})
    assert cancelled.status_code == 200, cancelled.text
    assert queue(mail) == 1  # cancelled: emailed again
    assert kinds(mine(client, a2)) == ["event_cancelled", "event_moved", "event_scheduled"]
    assert mine(client, a) == []


def test_scheduling_tells_each_participant_by_their_own_setting_whoever_takes_part(
    client,
    team,
    world,
    auth,
    smtp,  # noqa: F811
):
    """Scheduling reads the team's members' accounts (and whether each asked no email of it)
    with the team, and anyone else taking part (a year-end meeting's administrator) in a
    statement of their own: either way the person's own setting decides, a deactivated member
    is emailed nothing, and the answer lists the participants as the event does."""
    _, mail = smtp
    queue(mail)  # the fixture's invitation to the team
    a, a2 = auth(world.teacher_a), auth(world.teacher_a2)
    email_off(client, a2, "event_scheduled")
    planning = post_event(client, a, team, kind="other", title="Planning", **days_ahead(3))
    assert queue(mail) == 0  # A2 chose the app only; A acted
    assert kinds(mine(client, a2)) == ["event_scheduled"]
    shown = client.get(f"/api/v1/events/{planning['id']}", headers=a).json()
    assert planning["participants"] == shown["participants"]
    assert {p["id"] for p in planning["participants"]} == {
        str(world.teacher_a.id),
        str(world.teacher_a2.id),
    }

    meeting = post_event(
        client,
        auth(world.admin_a),
        team,
        kind="year_end_meeting",
        title="Growth conversation",
        participant_ids=[str(world.teacher_a.id), str(world.teacher_a2.id), str(world.admin_a.id)],
        **days_ahead(5),
    )
    assert queue(mail) == 1  # A's; A2 still chose the app only; the administrator acted
    shown = client.get(f"/api/v1/events/{meeting['id']}", headers=a).json()
    assert meeting["participants"] == shown["participants"]
    assert len(meeting["participants"]) == 3

    r = client.patch(
        f"/api/v1/users/{world.teacher_a2.id}",
        headers=auth(world.admin_a),
        json={"is_active": False},
    )
    assert r.status_code == 200, r.text
    inbox, _ = smtp
    deliver(mail)
    before = len(inbox.to(world.teacher_a2.email))
    post_event(client, a, team, kind="other", title="Lesson study", **days_ahead(7))
    deliver(mail)
    assert len(inbox.to(world.teacher_a2.email)) == before  # deactivated: no invitation


def test_recipients_read_by_a_caller_must_cover_whom_and_what_it_tells():
    """`tell` trusts recipients read beside a caller's own rows only for the people and kinds
    they were read for: anyone or any kind else is a bug, not a silent skip."""
    read, other = uuid.uuid4(), uuid.uuid4()
    moved = NotificationKind.event_moved
    known = Recipients(frozenset({moved}), frozenset({read}), {read: frozenset()})
    for message in (
        Message([read, other], moved, "t", "/x"),
        Message([read], NotificationKind.event_cancelled, "t", "/x"),
    ):
        with pytest.raises(ValueError, match="do not cover"):
            asyncio.run(tell_each(None, [message], known=known))  # type: ignore[arg-type]
