"""Calendar feeds: secret addresses calendar apps subscribe to, valid RFC 5545 read back with
the `icalendar` package, what the library does not promise (folding, escaping, one VTIMEZONE
per zone, stable UIDs), and that a feed never carries a note nor outlives its address."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from app.mail.models import OutboxMessage
from app.school_years.models import SchoolYear
from app.users.models import Role
from tests.teams import approve_plan, form_team
from tests.test_invitations import deliver, smtp  # noqa: F401 (a fixture)

SECRET = "OBSERVATION-NOTE-ZEBRA-4411"


def days_ago(n: int) -> dict[str, str]:
    """Times of an hour's event `n` days ago, at 15:00 UTC: feeds hold recent and coming events
    (and a record is written only once its observation has begun)."""
    start = (datetime.now(UTC) - timedelta(days=n)).replace(hour=15, minute=0, second=0)
    end = start + timedelta(hours=1)
    return {"starts_at": start.isoformat(), "ends_at": end.isoformat()}


def days_ahead(n: int) -> dict[str, str]:
    return days_ago(-n)


def post_event(client, headers, team, **body):
    r = client.post("/api/v1/events", headers=headers, json={"team_id": team["id"], **body})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def calendar(client, team, world, auth):
    """The team's plan approved; a pre-conference with a place and an awkward title, and an
    observation with a record holding a secret note."""
    a = auth(world.teacher_a)
    approve_plan(client, auth, team["id"], world.teacher_a, world.admin_a)
    pre = post_event(
        client,
        a,
        team,
        kind="pre_conference",
        title="Planning, part 1; bring notes\nand the rubric",
        location="Room 12, Ängström wing",
        **days_ago(20),
    )
    obs = post_event(
        client,
        a,
        team,
        kind="observation",
        **days_ago(10),
        observer_id=str(world.teacher_a.id),
        observed_id=str(world.teacher_a2.id),
    )
    record = client.post(
        f"/api/v1/events/{obs['id']}/observation-record", headers=a, json={"affirmations": [SECRET]}
    )
    assert record.status_code in (200, 201), record.text
    return pre, obs


def make_feed(client, headers, **body):
    r = client.post("/api/v1/calendar-feeds", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def read(client, feed, **headers):
    return client.get(feed["url"], headers=headers)


def parsed(response) -> icalendar.Calendar:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content)


def vevents(cal) -> dict[str, icalendar.Event]:
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def test_a_personal_feed_is_valid_icalendar_with_the_events_one_attends(
    client, world, auth, calendar
):
    pre, obs = calendar
    feed = make_feed(client, auth(world.teacher_a2), kind="personal")
    assert feed["url"].startswith("/api/v1/calendar-feeds/")
    assert feed["url"].endswith(".ics")
    cal = parsed(read(client, feed))  # no Authorization header: the address is the key
    assert str(cal["version"]) == "2.0"
    assert cal["prodid"]
    assert cal["x-wr-calname"] == cal["name"]
    assert cal["refresh-interval"].to_ical() == b"PT1H"
    events = vevents(cal)
    assert set(events) == {f"{pre['id']}@peercoach", f"{obs['id']}@peercoach"}
    first = events[f"{pre['id']}@peercoach"]
    # The school's zone, with its VTIMEZONE (one per TZID).
    assert first["dtstart"].params["TZID"] == "America/Chicago"
    chicago = ZoneInfo("America/Chicago")
    assert first["dtstart"].dt.utcoffset() == first["dtstart"].dt.astimezone(chicago).utcoffset()
    assert [str(z["tzid"]) for z in cal.walk("VTIMEZONE")] == ["America/Chicago"]
    # Escaping: commas, semicolons and newlines round-trip; the raw text escapes them.
    assert str(first["summary"]) == "Planning, part 1; bring notes\nand the rubric"
    assert str(first["location"]) == "Room 12, Ängström wing"
    assert b"Planning\\, part 1\\; bring notes\\nand the rubric" in cal.to_ical()
    assert str(first["status"]) == "CONFIRMED"
    attendees = sorted(str(a) for a in events[f"{obs['id']}@peercoach"].get("attendee"))
    assert attendees == ["mailto:teacher.a2@example.org", "mailto:teacher.a@example.org"]
    assert str(first["url"]).endswith(f"/events/{pre['id']}")


def test_a_feed_carries_no_note(client, team, world, auth, calendar):
    feed = make_feed(client, auth(world.teacher_a), kind="personal")
    body = read(client, feed).text
    assert SECRET not in body
    # Nor does the observation's own learning target or strategy: titles, times, places, people.
    for event in vevents(icalendar.Calendar.from_ical(body)).values():
        assert set(event) <= {
            "UID", "DTSTAMP", "LAST-MODIFIED", "SEQUENCE", "DTSTART", "DTEND", "SUMMARY",
            "STATUS", "LOCATION", "URL", "DESCRIPTION", "ATTENDEE",
        }  # fmt: skip


def test_lines_fold_at_75_octets_without_splitting_a_character(client, team, world, auth):
    a = auth(world.teacher_a)
    long_title = "Éé Ünïcödé 観察 " * 8  # multi-byte characters across every fold
    post_event(client, a, team, kind="pre_conference", title=long_title.strip(), **days_ago(5))
    raw = read(client, make_feed(client, a, kind="personal")).content
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # never half a character at a fold
    (event,) = vevents(icalendar.Calendar.from_ical(raw)).values()
    assert str(event["summary"]) == long_title.strip()


def test_uids_stay_and_sequence_and_last_modified_move_with_every_change(
    client, world, auth, calendar
):
    pre, _ = calendar
    a = auth(world.teacher_a)
    feed = make_feed(client, a, kind="team", team_id=pre["team_id"])
    before = vevents(parsed(read(client, feed)))[f"{pre['id']}@peercoach"]
    time.sleep(1.05)  # LAST-MODIFIED counts seconds
    moved = client.patch(
        f"/api/v1/events/{pre['id']}",
        headers={**a, "If-Match": "*"},
        json=days_ago(19),
    )
    assert moved.status_code == 200, moved.text
    cancelled = client.post(
        f"/api/v1/events/{pre['id']}/cancel",
        headers={**a, "If-Match": "*"},
        json={"reason": "sick"},
    )
    assert cancelled.status_code == 200, cancelled.text
    after = vevents(parsed(read(client, feed)))[f"{pre['id']}@peercoach"]
    assert after["sequence"] == before["sequence"] + 2
    assert after["last-modified"].dt > before["last-modified"].dt
    assert str(after["status"]) == "CANCELLED"
    assert "sick" not in read(client, feed).text  # the reason is not the calendar's to tell


def test_conditional_requests_get_304(client, world, auth, calendar):
    feed = make_feed(client, auth(world.teacher_a), kind="personal")
    first = read(client, feed)
    tag = first.headers["etag"]
    assert first.headers["last-modified"].endswith(" GMT")
    again = client.get(feed["url"], headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    other = client.get(feed["url"], headers={"If-None-Match": '"ics-something-else"'})
    assert other.status_code == 200


def test_rotated_revoked_and_unknown_addresses_answer_404(client, world, auth, calendar):
    a = auth(world.teacher_a)
    feed = make_feed(client, a, kind="personal")
    rotated = client.post(f"/api/v1/calendar-feeds/{feed['id']}/rotate", headers=a)
    assert rotated.status_code == 200, rotated.text
    assert read(client, feed).status_code == 404
    assert read(client, rotated.json()).status_code == 200
    listed = client.get("/api/v1/calendar-feeds", headers=a).json()["items"]
    assert [f["id"] for f in listed] == [feed["id"]]
    assert "url" not in listed[0]  # the address is shown once
    assert client.delete(f"/api/v1/calendar-feeds/{feed['id']}", headers=a).status_code == 204
    assert read(client, rotated.json()).status_code == 404
    assert client.get("/api/v1/calendar-feeds", headers=a).json()["items"] == []
    again = client.post(f"/api/v1/calendar-feeds/{feed['id']}/rotate", headers=a)
    assert again.status_code == 409
    unknown = client.get("/api/v1/calendar-feeds/not-a-token.ics")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")


def test_only_the_owner_manages_a_feed_and_it_dies_with_the_account(client, world, auth, calendar):
    feed = make_feed(client, auth(world.teacher_a2), kind="personal")
    for other in (world.teacher_a, world.district_admin):
        assert (
            client.post(
                f"/api/v1/calendar-feeds/{feed['id']}/rotate", headers=auth(other)
            ).status_code
            == 404
        )
        assert (
            client.delete(f"/api/v1/calendar-feeds/{feed['id']}", headers=auth(other)).status_code
            == 404
        )
    off = client.patch(
        f"/api/v1/users/{world.teacher_a2.id}",
        headers={**auth(world.district_admin), "If-Match": "*"},
        json={"is_active": False},
    )
    assert off.status_code == 200, off.text
    assert read(client, feed).status_code == 404


def test_team_and_schools_feeds_follow_the_calendar_rules(
    client, team, world, auth, calendar, factory
):
    outsider = factory.user(Role.teacher, [world.school_a])
    r = client.post(
        "/api/v1/calendar-feeds",
        headers=auth(outsider),
        json={"kind": "team", "team_id": team["id"]},
    )
    assert r.status_code == 404
    r = client.post("/api/v1/calendar-feeds", headers=auth(outsider), json={"kind": "schools"})
    assert r.status_code == 403
    bad = client.post("/api/v1/calendar-feeds", headers=auth(outsider), json={"kind": "team"})
    assert bad.status_code == 422
    # An administrator's feed: year-end meetings and observations needing coverage, of the
    # teams they oversee. The team's pre-conference is not in it.
    obs = post_event(
        client, auth(world.teacher_a), team, kind="observation",
        starts_at="2027-03-01T15:00:00Z", ends_at="2027-03-01T16:00:00Z",
        observer_id=str(world.teacher_a2.id), observed_id=str(world.teacher_a.id),
    )  # fmt: skip
    schools = make_feed(client, auth(world.admin_a), kind="schools")
    assert vevents(parsed(read(client, schools))) == {}
    asked = client.post(
        "/api/v1/coverage-requests",
        headers=auth(world.teacher_a),
        json={"event_id": obs["id"], "note": "cover my class"},
    )
    assert asked.status_code == 201, asked.text
    assert set(vevents(parsed(read(client, schools)))) == {f"{obs['id']}@peercoach"}
    other_school = make_feed(client, auth(world.admin_b), kind="schools")
    assert vevents(parsed(read(client, other_school))) == {}


def test_one_event_as_icalendar_for_those_who_see_it(client, world, auth, calendar, factory):
    pre, _ = calendar
    url = f"/api/v1/events/{pre['id']}.ics"
    cal = parsed(client.get(url, headers=auth(world.teacher_a)))
    assert list(vevents(cal)) == [f"{pre['id']}@peercoach"]
    assert client.get(url, headers=auth(world.admin_a)).status_code == 200
    outsider = factory.user(Role.teacher, [world.school_a])
    assert client.get(url, headers=auth(outsider)).status_code == 404
    assert client.get(url).status_code == 401


def calendar_part(message) -> icalendar.Calendar:
    """The text/calendar alternative of an email, parsed back."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in message.walk()]
    assert parts[0].get_param("method") in ("REQUEST", "CANCEL")
    files = [p for p in message.walk() if p.get_filename() == "invite.ics"]
    assert len(files) == 1
    shown = icalendar.Calendar.from_ical(parts[0].get_payload(decode=True))
    attached = icalendar.Calendar.from_ical(files[0].get_payload(decode=True))
    # The attachment is the same invitation (for clients that only read attachments).
    assert [str(e["uid"]) for e in attached.walk("VEVENT")] == [
        str(e["uid"]) for e in shown.walk("VEVENT")
    ]
    assert str(attached["method"]) == str(shown["method"])
    return shown


def test_participants_are_emailed_invitations_moves_and_cancellations(
    client,
    team,
    world,
    auth,
    smtp,  # noqa: F811
    sync_engine,
):
    inbox, mail = smtp
    a = auth(world.teacher_a)
    with Session(sync_engine) as s:  # a recorded year: its checks read the team's zone too
        today = datetime.now(UTC).date()
        s.add(SchoolYear(label=team["school_year"], starts_on=today - timedelta(days=30),
                         ends_on=today + timedelta(days=300)))  # fmt: skip
        s.commit()
    approve_plan(client, auth, team["id"], world.teacher_a, world.admin_a)
    obs = post_event(
        client, a, team, kind="observation", location="Room 7", **days_ahead(3),
        observer_id=str(world.teacher_a.id), observed_id=str(world.teacher_a2.id),
        learning_target="Questions that make students think", strategy="Wait time",
    )  # fmt: skip
    # Waiting in the outbox, the invitation's calendar part is not written yet: what the
    # worker writes it from waits sealed (app/mail/sealing.py), as the text does.
    with Session(sync_engine) as s:
        waiting = list(s.scalars(select(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None))))
    assert waiting
    assert all(m.sealed and m.calendar is None and m.calendar_spec for m in waiting)
    stored = [m.body + (m.calendar_spec or "") for m in waiting]
    assert not any("Room 7" in text or world.teacher_a.email in text for text in stored)
    deliver(mail)
    with Session(sync_engine) as s:  # sent: nothing of it kept
        for m in waiting:
            sent = s.get(OutboxMessage, m.id)
            assert sent is not None
            assert sent.sent_at is not None
            assert (sent.body, sent.calendar, sent.calendar_spec) == ("", None, None)
    for person in (world.teacher_a, world.teacher_a2):
        (message,) = inbox.to(person.email)
        assert message["Subject"].startswith("Invitation: Observation")
        cal = calendar_part(message)
        assert str(cal["method"]) == "REQUEST"
        (event,) = cal.walk("VEVENT")
        assert str(event["uid"]) == f"{obs['id']}@peercoach"
        assert event["sequence"] == 0
        assert str(event["organizer"]).startswith("mailto:")
        assert str(event["location"]) == "Room 7"
        assert event["dtstart"].params["TZID"] == "America/Chicago"  # the school's zone
        (plain,) = [p for p in message.walk() if p.get_content_type() == "text/plain"]
        assert "(America/Chicago)" in plain.get_payload(decode=True).decode()
        # The calendar's own learning target and strategy stay in peer coaching.
        raw = message.as_string()
        assert "Wait time" not in raw
        assert "make students think" not in raw
    moved = client.patch(
        f"/api/v1/events/{obs['id']}", headers={**a, "If-Match": "*"}, json=days_ahead(4)
    )
    assert moved.status_code == 200, moved.text
    cancelled = client.post(
        f"/api/v1/events/{obs['id']}/cancel",
        headers={**a, "If-Match": "*"},
        json={"reason": "private reason"},
    )
    assert cancelled.status_code == 200, cancelled.text
    deliver(mail)
    _invitation, move, cancel = inbox.to(world.teacher_a2.email)
    assert move["Subject"].startswith("Moved: ")
    (moved_event,) = calendar_part(move).walk("VEVENT")
    assert moved_event["sequence"] == 1
    cancellation = calendar_part(cancel)
    assert str(cancellation["method"]) == "CANCEL"
    (gone,) = cancellation.walk("VEVENT")
    assert str(gone["status"]) == "CANCELLED"
    assert gone["sequence"] == 2
    assert str(gone["uid"]) == f"{obs['id']}@peercoach"
    assert "private reason" not in cancel.as_string()


def test_people_taken_off_an_event_get_a_cancellation(client, team, world, auth, smtp):  # noqa: F811
    inbox, mail = smtp
    a = auth(world.teacher_a)
    meeting = post_event(client, a, team, kind="other", title="Lesson study", **days_ahead(2))
    changed = client.patch(
        f"/api/v1/events/{meeting['id']}",
        headers={**a, "If-Match": "*"},
        json={"participant_ids": [str(world.teacher_a.id)]},
    )
    assert changed.status_code == 200, changed.text
    deliver(mail)
    _invited, dropped = inbox.to(world.teacher_a2.email)
    assert str(calendar_part(dropped)["method"]) == "CANCEL"
    assert len(inbox.to(world.teacher_a.email)) == 1  # nothing they see changed


def test_a_feed_read_again_follows_every_change_behind_it(client, team, world, auth, calendar):
    """Each VEVENT is written once and remembered by what it is written from: a renamed
    teammate or team, a moved event, all show at the next read."""
    pre, _ = calendar
    a = auth(world.teacher_a)
    feed = make_feed(client, auth(world.teacher_a2), kind="personal")
    before = vevents(parsed(read(client, feed)))[f"{pre['id']}@peercoach"]
    assert str(before["summary"]).startswith("Planning")
    renamed = client.patch(
        f"/api/v1/users/{world.teacher_a.id}",
        headers={**auth(world.district_admin), "If-Match": "*"},
        json={"given_name": "Renamed"},
    )
    assert renamed.status_code == 200, renamed.text
    team_renamed = client.patch(
        f"/api/v1/teams/{team['id']}", headers={**a, "If-Match": "*"}, json={"name": "New name"}
    )
    assert team_renamed.status_code == 200, team_renamed.text
    after = vevents(parsed(read(client, feed)))
    people = {a.params["CN"] for a in after[f"{pre['id']}@peercoach"].get("attendee")}
    assert any(cn.startswith("Renamed ") for cn in people), people
    untitled = [e for e in after.values() if "New name" in str(e["summary"])]
    assert untitled, [str(e["summary"]) for e in after.values()]  # the observation has no title


def test_calendars_are_written_as_icalendar_writes_them_whole():
    """Remembered parts put together give what `icalendar` writes for the whole calendar:
    properties, one VTIMEZONE per zone in use (none for UTC), then the events."""
    from app.calendar_feeds import ics

    def event(n: int, zone: str | None, day: int) -> ics.CalendarEvent:
        start = datetime(2026, 3, day, 15, tzinfo=UTC)
        return ics.CalendarEvent(
            id=f"00000000-0000-0000-0000-00000000000{n}",
            kind="observation",
            title=None,
            team_id=f"00000000-0000-0000-0001-00000000000{n}",
            team_name=f"Team {n}; ünïcode, long enough to be folded at seventy-five octets",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            location="Room 1",
            status="scheduled",
            version=n,
            updated_at=start,
            time_zone=zone,
            attendees=[{"given_name": "Ana", "family_name": "Ng", "email": "ana@example.org"}],
        )

    events = [event(1, "America/Chicago", 3), event(2, None, 9), event(3, "Europe/Berlin", 29)]
    link = lambda e: f"https://front.example/events/{e.id}"  # noqa: E731
    ours = ics.calendar("Peer coaching", events, link)
    assert ics.calendar("Peer coaching", events, link) == ours  # from memory the second time

    whole = icalendar.Calendar.from_ical(ours)
    assert [str(z["tzid"]) for z in whole.walk("VTIMEZONE")] == [
        "America/Chicago",
        "Europe/Berlin",
    ]
    reference = icalendar.Calendar()
    for prop in ("prodid", "version", "calscale", "name", "x-wr-calname"):
        reference.add(prop, whole[prop])
    for item in events:
        reference.add_component(ics._vevent(item, link(item), None))
    reference.add_missing_timezones(
        first_date=datetime(2026, 1, 1).date(), last_date=datetime(2027, 1, 1).date()
    )
    assert {str(e["uid"]): e.to_ical() for e in whole.walk("VEVENT")} == {
        str(e["uid"]): e.to_ical() for e in reference.walk("VEVENT")
    }
    assert sorted(z.to_ical() for z in whole.walk("VTIMEZONE")) == sorted(
        z.to_ical() for z in reference.walk("VTIMEZONE")
    )
    assert all(len(line) <= 75 for line in ours.split(b"\r\n"))


def test_each_event_is_in_its_own_teams_zone(client, team, world, auth, factory, calendar):
    """A team in Beta School (America/New_York) beside one in Alpha School (America/Chicago,
    first by name): each feed and event file names its own team's zone."""
    b = factory.user(Role.teacher, [world.school_b])
    beta = form_team(client, auth, world.teacher_b, b, name="Beta team")
    approve_plan(client, auth, beta["id"], world.teacher_b, world.admin_b)
    pre = post_event(client, auth(world.teacher_b), beta, kind="pre_conference", **days_ahead(3))
    feed = make_feed(client, auth(world.teacher_b), kind="personal")
    found = vevents(parsed(read(client, feed)))[f"{pre['id']}@peercoach"]
    assert found["dtstart"].params["TZID"] == "America/New_York"
    one = parsed(client.get(f"/api/v1/events/{pre['id']}.ics", headers=auth(world.teacher_b)))
    assert [str(z["tzid"]) for z in one.walk("VTIMEZONE")] == ["America/New_York"]
    alpha = make_feed(client, auth(world.teacher_a), kind="personal")
    zones = {e["dtstart"].params["TZID"] for e in vevents(parsed(read(client, alpha))).values()}
    assert zones == {"America/Chicago"}


def test_creating_an_event_reads_its_zone_once_with_or_without_a_recorded_year(
    app,
    client,
    team,
    world,
    auth,
    smtp,  # noqa: F811
):
    """The team, its members, its school year and its zone are read in one statement (one row
    per member whether or not the district recorded the year), and the zone goes to the
    invitation, which named it in a statement of its own before."""
    from tests.test_query_counts import counting

    inbox, mail = smtp
    a = auth(world.teacher_a)
    client.get("/api/v1/me", headers=a)  # the caller's account is known
    with counting(app, cold=False) as statements:
        post_event(client, a, team, kind="other", title="Planning", **days_ahead(3))
    zone_reads = [sql for sql in statements if "school.time_zone" in sql]
    assert len(zone_reads) == 1, zone_reads
    # The team with all it decides by, its members' accounts among it (for the answer, the
    # invitations and the notifications: whether each asked no email of them); the clash
    # (after the participants' bookings are locked, on PostgreSQL); then the event, its two
    # participants, the other participant's notification and two invitations, with the COMMIT.
    reads = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    locks = [sql for sql in reads if "pg_advisory_xact_lock" in sql]
    assert len(locks) == (1 if app.state.db.engine.dialect.name == "postgresql" else 0)
    assert len(reads) - len(locks) == 2, reads
    written = sorted(sql.split()[2].strip('"') for sql in statements if sql not in reads)
    assert written == [
        "event",
        "event_participant",
        "event_participant",
        "notification",
        "outbox_message",
        "outbox_message",
    ], statements
    deliver(mail)
    (message,) = inbox.to(world.teacher_a2.email)
    (event,) = calendar_part(message).walk("VEVENT")
    assert event["dtstart"].params["TZID"] == "America/Chicago"


def test_times_are_ordered_by_instant_whatever_their_offsets():
    """`ics.instant` orders as the datetimes do, across zones and `tzinfo` objects (the read
    path's parsed ones, the standard library's)."""
    from pydantic import TypeAdapter

    from app.calendar_feeds import ics

    parsed = TypeAdapter(datetime).validate_python
    times = [
        parsed("2026-09-28T14:00:00Z"),
        datetime(2026, 9, 28, 13, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 9, 28, 9, 30, tzinfo=timezone(timedelta(hours=-5))),  # 14:30 UTC
        parsed("2026-09-28T16:00:00+02:00"),  # 14:00 UTC, the same instant as the first
        parsed("2026-09-28T14:00:00.000001Z"),
    ]
    assert all(ics.instant(t) == t and ics.instant(t).tzinfo is UTC for t in times)
    assert sorted(times, key=ics.instant) == sorted(times)
    assert [ics.instant(t) for t in sorted(times)] == sorted(ics.instant(t) for t in times)
    assert max(times, key=ics.instant) == max(times)
    assert min(times, key=ics.instant) == min(times)
