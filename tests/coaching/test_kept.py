"""Kept documents (app/core/kept.py): a worker serves a team's summary, its printable form,
its year-end report row and its events in a calendar feed again only while nothing they show
has changed. The oracle throughout: what the worker serves
must equal what it builds with nothing kept, for every kind of reader, after every kind of
change, made through the API or by hand in SQL (a roster import, the CLI, an operator)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Table, text
from sqlalchemy.sql.util import find_tables

from app.calendar_feeds import service as feed_service
from app.core.kept import KeptDocuments, weigh
from app.core.reads import Reads
from app.summary import service as summary_service
from app.summary.service import changes_at
from app.users.models import Role
from tests.coaching.test_calendar_feeds import days_ago, days_ahead, make_feed, post_event
from tests.coaching.test_progress import complete_cycle, ev
from tests.teams import approve_plan, form_team

READERS = ("teacher_a", "teacher_a2", "admin_a", "district_admin", "teacher_a3")


def _urls(team_id: str, school_id: uuid.UUID) -> list[str]:
    base = f"/api/v1/teams/{team_id}/summary"
    return [
        base,
        f"{base}?include_private=false",
        f"{base}/document",
        f"{base}/document?format=markdown",
        "/api/v1/reports/year-end",
        "/api/v1/reports/year-end?limit=1&offset=1",
        "/api/v1/reports/year-end.csv",
        f"/api/v1/reports/year-end.csv?school_id={school_id}",
        "/api/v1/reports/year-end.csv?school_year=2026-2027",
        "/api/v1/teams",
        f"/api/v1/teams/{team_id}",
        f"/api/v1/teams?school_id={school_id}&limit=1",
        "/api/v1/teams?plan_status=submitted",
    ]


def _kept(client) -> KeptDocuments:
    store: KeptDocuments = client.app.state.db.kept
    return store


Feeds = dict[str, list[str]]  # a reader's calendar feeds' addresses


def _answers(
    client, auth, world, team_id: str, feeds: Feeds, *, fresh: bool = False
) -> dict[tuple[str, str], tuple[int, str]]:
    """Every reader's every answer; `fresh`: each built with nothing kept (not even what the
    reader's previous request kept)."""
    found = {}
    for reader in READERS:
        headers = auth(getattr(world, reader))
        for url in [*_urls(team_id, world.school_a.id), *feeds[reader]]:
            if fresh:
                _kept(client).clear()
            r = client.get(url, headers=headers)
            body = r.text if r.status_code == 200 else r.json()["detail"]  # no request id
            found[reader, url] = (r.status_code, body)
    return found


def _same_as_built_afresh(client, auth, world, team_id: str, feeds: Feeds) -> None:
    served = _answers(client, auth, world, team_id, feeds)
    built = _answers(client, auth, world, team_id, feeds, fresh=True)
    for key, answer in built.items():
        assert served[key] == answer, f"{key} served a stale document"
    assert any(status == 200 for status, _ in built.values())


@pytest.fixture
def builds(monkeypatch) -> list[int]:
    """One entry per summary built (not served from what was kept)."""
    built: list[int] = []
    original = summary_service._compile

    async def counting(*args, **kwargs):
        built.append(1)
        return await original(*args, **kwargs)

    monkeypatch.setattr(summary_service, "_compile", counting)
    return built


@pytest.fixture
def feed_builds(monkeypatch) -> list[int]:
    """One entry per build of some teams' events for a feed."""
    built: list[int] = []
    original = feed_service._feed_events

    def counting(*args):
        built.append(1)
        return original(*args)

    monkeypatch.setattr(feed_service, "_feed_events", counting)
    return built


@pytest.fixture
def cycle(client, team, world, auth, sync_engine):
    complete_cycle(client, team, world, auth)
    return team


@pytest.fixture
def feeds(client, cycle, world, auth) -> Feeds:
    """Every reader's feeds (personal; the team's for its members; the schools' for
    administrators), with a recent and a coming event of the team in them."""
    a = auth(world.teacher_a)
    post_event(client, a, cycle, kind="other", title="Recent", **days_ago(3))
    post_event(client, a, cycle, kind="other", title="Coming", **days_ahead(3))
    found: Feeds = {}
    for reader in READERS:
        who = getattr(world, reader)
        headers = auth(who)
        kinds = [{"kind": "personal"}]
        if reader in ("teacher_a", "teacher_a2"):
            kinds.append({"kind": "team", "team_id": cycle["id"]})
        if reader in ("admin_a", "district_admin"):
            kinds.append({"kind": "schools"})
        found[reader] = [make_feed(client, headers, **kind)["url"] for kind in kinds]
    return found


def test_tables_the_documents_read_each_raise_a_revision(
    client, cycle, feeds, world, auth, sync_engine, monkeypatch
):
    """Every table a summary, document, report or feed statement reads, for every reader, has
    the trigger that raises a revision when it changes (a table read without one would be
    served stale)."""
    read: set[str] = set()
    original = Reads._rows

    async def spy(self, stmt, values, **kwargs):
        for found in find_tables(stmt, include_aliases=True):
            table = getattr(found, "original", found)  # an alias: its table
            if isinstance(table, Table):  # (a subquery's own tables are found apart)
                read.add(table.name)
        return await original(self, stmt, values, **kwargs)

    monkeypatch.setattr(Reads, "_rows", spy)
    _kept(client).clear()
    answers = _answers(client, auth, world, cycle["id"], feeds)
    assert {status for status, _ in answers.values()} == {200, 403, 404}
    assert answers["admin_a", "/api/v1/reports/year-end.csv"][0] == 200
    assert "Coming" in answers["teacher_a2", feeds["teacher_a2"][0]][1]
    read.discard("content_revision")
    read.discard("calendar_feed")  # the address's own row: its owner, read on every request
    assert {"reflection", "event", "observation_record", "user_account"} <= read
    assert {"event_participant", "coverage_request", "school"} <= read
    with sync_engine.connect() as conn:
        if sync_engine.dialect.name == "sqlite":
            rows = conn.execute(
                text(
                    "SELECT tbl_name FROM sqlite_master "
                    "WHERE type = 'trigger' AND name LIKE 'content_revision_%'"
                )
            )
        else:
            rows = conn.execute(
                text(
                    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE t.tgname LIKE 'content_revision_%'"
                )
            )
        watched = {r[0] for r in rows}
    assert read - watched == set()


def test_with_nothing_kept_every_answer_is_the_same(client, cycle, feeds, world, auth, monkeypatch):
    """KEPT_DOCUMENTS=0 builds every document on every request, and answers the same."""
    kept = _answers(client, auth, world, cycle["id"], feeds)
    monkeypatch.setattr(_kept(client), "size", 0)
    _kept(client).clear()
    assert _answers(client, auth, world, cycle["id"], feeds) == kept
    assert len(_kept(client)) == 0


def test_a_document_read_again_is_kept(client, cycle, world, auth, builds):
    _kept(client).clear()
    a = auth(world.teacher_a)
    url = f"/api/v1/teams/{cycle['id']}/summary"
    first = client.get(url, headers=a)
    again = client.get(url, headers=a)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert len(builds) == 1
    # Another reader never gets the first one's copy.
    admin = client.get(url, headers=auth(world.admin_a))
    assert admin.json()["observation_records"] is None
    assert len(builds) == 2
    # The printable form is kept too (built from the kept summary the first time).
    doc = f"{url}/document"
    assert client.get(doc, headers=a).text == client.get(doc, headers=a).text
    assert len(builds) == 2
    # A change to the team: built again, and shows it.
    r = client.post(
        "/api/v1/reflections",
        headers=a,
        json={"title": "Later", "body": "Words", "visibility": "team", "team_id": cycle["id"]},
    )
    assert r.status_code == 201
    later = client.get(url, headers=a).json()
    assert len(builds) == 3
    assert "Later" in [p["title"] for p in later["reflections"]]


def _sql(sync_engine, statement: str, **values) -> None:
    with sync_engine.begin() as conn:
        conn.execute(text(statement), values)


def _uuid(engine, value) -> str:
    return value.hex if engine.dialect.name == "sqlite" else str(value)


def test_every_kind_of_change_is_seen(client, cycle, feeds, world, auth, sync_engine):
    """After each change, API or SQL by hand, every reader is served what a fresh build says
    (the summary, its documents, the year-end report, which lists a second team, and every
    reader's calendar feeds)."""
    form_team(client, auth, world.teacher_a3, world.teacher_a2, name="Second team")
    team_id = cycle["id"]
    a, admin = auth(world.teacher_a), auth(world.admin_a)
    e = sync_engine
    team_key = _uuid(e, uuid.UUID(team_id))  # the team's id as the engine stores it
    _same_as_built_afresh(client, auth, world, team_id, feeds)

    def api(method: str, url: str, **kwargs) -> dict:
        r = client.request(method, url, **kwargs)
        assert r.status_code < 300, r.text
        return r.json() if r.content else {}

    changes = [
        lambda: api(
            "POST",
            "/api/v1/reflections",
            headers=a,
            json={"title": "New", "body": "b", "visibility": "team", "team_id": team_id},
        ),
        lambda: ev(client, a, cycle, "other", 25),
        lambda: post_event(client, a, cycle, kind="pre_conference", **days_ahead(5)),
        lambda: _sql(
            e,
            "UPDATE user_account SET given_name = 'Renamed' WHERE id = :id",
            id=_uuid(e, world.teacher_a2.id),
        ),
        lambda: _sql(
            e,
            "UPDATE school SET time_zone = 'Asia/Tokyo' WHERE id = :id",
            id=_uuid(e, world.school_a.id),
        ),
        lambda: _sql(e, "UPDATE program_rules SET observations_per_teacher = 3"),
        lambda: _sql(
            e,
            "UPDATE observation_record SET affirmations = :v WHERE team_id = :t",
            v='["Edited by hand"]',
            t=team_key,
        ),
        lambda: _sql(
            e,
            "DELETE FROM event_participant WHERE user_id = :u AND event_id IN "
            "(SELECT id FROM event WHERE team_id = :t AND kind = 'other')",  # "Coming" too
            u=_uuid(e, world.teacher_a2.id),
            t=team_key,
        ),
        lambda: _sql(
            e,
            "UPDATE reflection SET visibility = 'program' WHERE team_id = :t",
            t=team_key,
        ),
        lambda: _sql(
            e,
            "UPDATE user_account SET role = 'school_admin' WHERE id = :id",
            id=_uuid(e, world.teacher_a2.id),
        ),
        lambda: _sql(
            e,
            "DELETE FROM school_membership WHERE user_id = :id",
            id=_uuid(e, world.teacher_a.id),
        ),
        lambda: api(
            "POST",
            f"/api/v1/teams/{team_id}/plan/transitions",
            headers={**admin, "If-Match": "*"},
            json={"action": "complete", "override_missing": True, "comment": "Met in May"},
        ),
    ]

    def coverage() -> None:
        starts = datetime.now(UTC) + timedelta(days=30)
        observation = api(
            "POST",
            "/api/v1/events",
            headers=a,
            json={
                "team_id": team_id,
                "kind": "observation",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(),
                "observer_id": str(world.teacher_a.id),
                "observed_id": str(world.teacher_a2.id),
            },
        )
        api(
            "POST",
            "/api/v1/coverage-requests",
            headers=a,
            json={"event_id": observation["id"], "note": "Period 2"},
        )

    changes[:0] = [
        coverage,
        lambda: _sql(
            e,
            "UPDATE coverage_request SET status = 'declined', decision_note = 'No cover' "
            "WHERE team_id = :t",
            t=team_key,
        ),
    ]
    for change in changes:
        _answers(client, auth, world, team_id, feeds)  # kept by every reader
        change()
        _same_as_built_afresh(client, auth, world, team_id, feeds)


def test_a_document_is_built_again_when_an_event_ends(
    client, team, world, auth, builds, monkeypatch
):
    """An event ending unconfirmed changes the summary with no row changed: the kept copy says
    until when it holds."""
    a = auth(world.teacher_a)
    soon = datetime.now(UTC) + timedelta(hours=1)
    r = client.post(
        "/api/v1/events",
        headers=a,
        json={
            "team_id": team["id"],
            "kind": "pre_conference",
            "starts_at": (soon - timedelta(minutes=30)).isoformat(),
            "ends_at": soon.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    store = _kept(client)
    store.clear()
    url = f"/api/v1/teams/{team['id']}/summary"
    client.get(url, headers=a)
    client.get(url, headers=a)
    assert len(builds) == 1
    monkeypatch.setattr(store, "clock", lambda: soon + timedelta(seconds=1))
    client.get(url, headers=a)
    assert len(builds) == 2


def test_until_when_a_summary_holds():
    now = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)

    class Ev:
        def __init__(self, status: str, ends: datetime) -> None:
            self.status, self.ends_at = status, ends

    class Summary:
        calendar = [
            Ev("held", now + timedelta(minutes=5)),
            Ev("cancelled", now + timedelta(minutes=10)),
            Ev("scheduled", now - timedelta(minutes=10)),
            Ev("scheduled", now + timedelta(minutes=150)),
        ]

    assert changes_at(Summary(), now) == datetime(2026, 3, 3, tzinfo=UTC)  # type: ignore[arg-type]
    Summary.calendar.append(Ev("scheduled", now + timedelta(minutes=20)))
    assert changes_at(Summary(), now) == now + timedelta(minutes=20)  # type: ignore[arg-type]


def test_the_store_forgets_the_least_recently_used():
    store = KeptDocuments(2)
    now = datetime.now(UTC)
    store.put("a", (1, 1), None, "A")
    store.put("b", (1, 1), None, "B")
    assert store.get("a", (1, 1), now) == "A"
    store.put("c", (1, 1), None, "C")
    assert store.get("b", (1, 1), now) is None
    assert store.get("a", (1, 2), now) is None  # another revision: gone
    assert store.get("c", (1, 1), now) == "C"
    assert len(store) == 1
    off = KeptDocuments(0)
    off.put("a", (1, 1), None, "A")
    assert len(off) == 0


def test_the_store_keeps_within_what_it_may_weigh():
    store = KeptDocuments(100, max_bytes=10)
    now = datetime.now(UTC)
    store.put("a", (1, 1), None, "aaaa")
    store.put("b", (1, 1), None, b"bbbb")
    store.put("c", (1, 1), None, "cccc")  # 12 bytes: the least recently used goes
    assert store.get("a", (1, 1), now) is None
    assert store.get("b", (1, 1), now) == b"bbbb"
    assert store.bytes == 8
    store.put("big", (1, 1), None, "x" * 11)  # more than all: not kept, nothing pushed out
    assert store.get("big", (1, 1), now) is None
    assert len(store) == 2
    store.put("b", (1, 2), None, "bb")  # built again: its new weight counts
    assert store.bytes == 6
    assert store.get("c", (2, 1), now) is None  # stale: gone, and its weight with it
    assert store.bytes == 2
    store.clear()
    assert store.bytes == 0


def test_what_a_kept_value_weighs_is_what_it_serves():
    from app.reports.schemas import YearEndRow

    row = YearEndRow.model_validate(
        {
            "team_id": uuid.uuid4(),
            "team_name": "Readers",
            "school_year": "2026-2027",
            "schools": ["Alpha"],
            "focus_area": None,
            "members": ["Ana Ng"],
            "plan_status": "approved",
            "cycle_complete": False,
            "steps_missing": 1,
            "missing_steps": ["pre_conference_held"],
            "deadlines_overdue": [],
            "observations_held": 0,
            "observation_records": 0,
            "reflections": 0,
            "coverage_arranged": 0,
            "coverage_pending": 0,
            "year_end_meeting": "none",
        }
    )
    assert weigh(row) == len(row.model_dump_json())

    @dataclass
    class Kept:
        row: YearEndRow
        line: bytes
        until: datetime | None

    kept = Kept(row, b"a line", None)
    assert weigh([kept, "abc"]) == weigh(row) + len(b"a line") + 16 + 3  # anything else: 16


def test_a_transaction_raises_its_team_revision(client, team, world, auth, sync_engine):
    """One write is one commit: the team's counter moves (on PostgreSQL by exactly one, however
    many of the team's rows it wrote)."""

    def revision() -> int:
        with sync_engine.connect() as conn:
            found = conn.execute(
                text("SELECT revision FROM content_revision WHERE team_id = :t"),
                {"t": _uuid(sync_engine, uuid.UUID(team["id"]))},
            ).scalar()
        return int(found or 0)

    before = revision()
    ev(client, auth(world.teacher_a), team, "pre_conference", 3)  # event, participants, ...
    after = revision()
    assert after > before
    if sync_engine.dialect.name == "postgresql":
        assert after == before + 1


def test_a_feed_is_built_again_when_its_first_event_leaves_it(
    client, team, world, auth, feed_builds, monkeypatch
):
    """No row changes when an event leaves a feed's window (ended 120 days ago): the kept
    events say until when they hold. A list the feed's limit cut short is not kept at all."""
    a = auth(world.teacher_a)
    recent = post_event(client, a, team, kind="other", title="Recent", **days_ago(3))
    post_event(client, a, team, kind="other", title="Coming", **days_ahead(3))
    url = make_feed(client, a, kind="team", team_id=team["id"])["url"]
    store = _kept(client)
    store.clear()
    first = client.get(url).text
    assert client.get(url).text == first
    assert len(feed_builds) == 1
    leaves = datetime.fromisoformat(recent["ends_at"]) + feed_service.FEED_PAST
    monkeypatch.setattr(store, "clock", lambda: leaves - timedelta(seconds=1))
    client.get(url)
    assert len(feed_builds) == 1
    monkeypatch.setattr(store, "clock", lambda: leaves)
    client.get(url)
    assert len(feed_builds) == 2

    monkeypatch.setattr(store, "clock", lambda: datetime.now(UTC))
    monkeypatch.setattr(feed_service, "MAX_FEED_EVENTS", 1)
    store.clear()
    cut = client.get(url).text
    assert "Recent" in cut
    assert "Coming" not in cut
    assert client.get(url).text == cut
    assert len(feed_builds) == 4  # built for each read
    assert len(store) == 0  # and never kept


def test_a_feed_of_more_teams_than_are_kept_is_read_whole(
    client, team, world, auth, feed_builds, monkeypatch
):
    a = auth(world.teacher_a)
    post_event(client, a, team, kind="other", title="Coming", **days_ahead(3))
    url = make_feed(client, a, kind="team", team_id=team["id"])["url"]
    store = _kept(client)
    store.clear()
    kept = client.get(url).text
    assert len(store) == 2  # the team's events, and the feed whole
    store.clear()
    monkeypatch.setattr(feed_service, "KEPT_FEED_TEAMS", 0)
    assert client.get(url).text == kept
    assert client.get(url).text == kept
    assert len(store) == 0
    assert len(feed_builds) == 3


def test_a_kept_summary_costs_one_statement(client, app, cycle, world, auth, monkeypatch):
    """Read again, a summary, its printable form or the team is the caller's standing on (or
    right to) the team with
    the team's revision counters, one statement, in no transaction; built, that statement is
    read again in a snapshot (`Reads.at_one_moment`), and the counters are not read apart."""
    from tests.test_query_counts import counting

    a = auth(world.teacher_a)
    driver = type(app.state.db.driver)
    snapshots: list[int] = []
    original = driver.snapshot

    def snapshot(self):
        snapshots.append(1)
        return original(self)

    monkeypatch.setattr(driver, "snapshot", snapshot)
    for url in (
        f"/api/v1/teams/{cycle['id']}/summary",
        f"/api/v1/teams/{cycle['id']}/summary/document",
        f"/api/v1/teams/{cycle['id']}",
    ):
        _kept(client).clear()
        with counting(app, cold=False) as built:
            assert client.get(url, headers=a).status_code == 200
        assert len(snapshots) == 1
        with counting(app, cold=False) as kept:
            assert client.get(url, headers=a).status_code == 200
        assert len(snapshots) == 1  # no transaction around the one statement
        snapshots.clear()
        kept = [s for s in kept if not s.startswith("SELECT user_account.")]  # the caller
        assert len(kept) == 1, kept
        assert "content_revision" in kept[0]
        assert sum("content_revision" in s for s in built) == 2, built


def test_a_feed_kept_whole_follows_the_teams_its_owner_may_see(
    client, world, auth, factory, sync_engine, feed_builds
):
    """A feed is kept whole under every team it may show, with events in it or not: a team at
    another school whose observation needs coverage enters an administrator's kept schools
    feed when a member joins their school, and leaves it when they leave (SQL by hand, as a
    roster import would), and nobody else's feed is served from it."""
    teacher_b2 = factory.user(Role.teacher, [world.school_b])
    team = form_team(client, auth, world.teacher_b, teacher_b2, name="Beta team")
    approve_plan(client, auth, team["id"], world.teacher_b, world.admin_b)
    obs = post_event(
        client, auth(world.teacher_b), team, kind="observation", **days_ahead(4),
        observer_id=str(world.teacher_b.id), observed_id=str(teacher_b2.id),
    )  # fmt: skip
    asked = client.post(
        "/api/v1/coverage-requests",
        headers=auth(world.teacher_b),
        json={"event_id": obs["id"], "note": "Period 3"},
    )
    assert asked.status_code == 201, asked.text
    uid = f"UID:{obs['id']}@peercoach"
    feed_a = make_feed(client, auth(world.admin_a), kind="schools")["url"]
    feed_b = make_feed(client, auth(world.admin_b), kind="schools")["url"]
    store = _kept(client)
    store.clear()
    empty = client.get(feed_a).text
    assert uid not in empty
    assert client.get(feed_a).text == empty
    assert uid in client.get(feed_b).text
    assert len(feed_builds) == 1  # admin B's (admin A sees no team: nothing to read)
    assert client.get(feed_b).text == client.get(feed_b).text
    assert len(feed_builds) == 1  # kept whole

    e = sync_engine
    member = {"u": _uuid(e, world.teacher_b.id), "s": _uuid(e, world.school_a.id)}
    _sql(e, "INSERT INTO school_membership (user_id, school_id) VALUES (:u, :s)", **member)
    entered = client.get(feed_a).text
    assert uid in entered
    store.clear()
    assert client.get(feed_a).text == entered  # as built afresh
    _sql(e, "DELETE FROM school_membership WHERE user_id = :u AND school_id = :s", **member)
    assert client.get(feed_a).text == empty
    assert uid in client.get(feed_b).text


def test_a_whole_document_is_filed_under_every_team_and_the_district():
    """The same teams with the same counters, in any order, file a whole document alike; a
    team more (even one whose counter never moved), a team's or the district's move, differ."""
    from app.core.kept import whole_stamp

    a, b = uuid.uuid4(), uuid.uuid4()

    # As the drivers return ids: PostgreSQL a UUID, SQLite its hex text.
    for as_driver in (lambda t: t, lambda t: t.hex):

        def stamp(*teams: tuple[uuid.UUID, int | None], district: int | None = 7, of=as_driver):
            rows = [{"team_id": of(t), "kept_revision": r, "kept_district": district}
                    for t, r in teams]  # fmt: skip
            return whole_stamp(rows)

        assert stamp((a, 1), (b, None)) == stamp((b, 0), (a, 1))
        assert stamp((a, 1)) != stamp((a, 1), (b, None))
        assert stamp((a, 1), (b, 2)) != stamp((a, 1), (b, 3))
        assert stamp((a, 1), district=7) != stamp((a, 1), district=8)
        assert stamp((a, 1), (b, 1)) != stamp((a, 1), (uuid.uuid4(), 1))


def test_a_kept_school_csv_costs_one_statement(client, app, cycle, world, auth):
    """Read again, a school's year-end CSV is its teams with their counters, one statement."""
    from tests.test_query_counts import counting

    admin = auth(world.admin_a)
    url = f"/api/v1/reports/year-end.csv?school_id={world.school_a.id}"
    _kept(client).clear()
    first = client.get(url, headers=admin)
    assert first.status_code == 200
    with counting(app, cold=False) as kept:
        again = client.get(url, headers=admin)
    assert again.text == first.text
    kept = [s for s in kept if not s.startswith("SELECT user_account.")]  # the caller
    assert len(kept) == 1, kept
    assert "content_revision" in kept[0]


def test_a_kept_summary_follows_its_team_continuing(client, cycle, world, auth, sync_engine):
    """A team's `continued_as_id` is the later team's row: continuing the team (through the
    API, or by hand in SQL) and undoing it raise the earlier team's revision too."""
    a = auth(world.teacher_a)
    url = f"/api/v1/teams/{cycle['id']}/summary"
    assert client.get(url, headers=a).json()["team"]["continued_as_id"] is None  # kept
    r = client.post(
        f"/api/v1/teams/{cycle['id']}/continue", headers=a, json={"school_year": "2027-2028"}
    )
    assert r.status_code == 201, r.text
    later = r.json()["id"]
    assert client.get(url, headers=a).json()["team"]["continued_as_id"] == later
    e = sync_engine
    _sql(
        e, "UPDATE team SET continued_from_id = NULL WHERE id = :id", id=_uuid(e, uuid.UUID(later))
    )
    assert client.get(url, headers=a).json()["team"]["continued_as_id"] is None
    _sql(
        e,
        "UPDATE team SET continued_from_id = :old WHERE id = :id",
        old=_uuid(e, uuid.UUID(cycle["id"])),
        id=_uuid(e, uuid.UUID(later)),
    )
    assert client.get(url, headers=a).json()["team"]["continued_as_id"] == later
    _sql(e, "DELETE FROM action_plan WHERE team_id = :id", id=_uuid(e, uuid.UUID(later)))
    _sql(e, "DELETE FROM team_invitation WHERE team_id = :id", id=_uuid(e, uuid.UUID(later)))
    _sql(e, "DELETE FROM team_member WHERE team_id = :id", id=_uuid(e, uuid.UUID(later)))
    _sql(e, "DELETE FROM team WHERE id = :id", id=_uuid(e, uuid.UUID(later)))
    assert client.get(url, headers=a).json()["team"]["continued_as_id"] is None


def test_one_team_is_the_copy_its_list_kept_and_asks_the_right_each_time(
    client, app, cycle, world, auth, sync_engine
):
    """`GET /teams/{id}` serves the copy a list of teams kept for the same caller (one
    statement: the caller's right with the counters, nothing built), the same answer as built
    afresh; and it asks the caller's right to the team every time: a member taken off it
    reads 404 from the next request, kept copy or not."""
    from tests.test_query_counts import counting

    a = auth(world.teacher_a2)
    url = f"/api/v1/teams/{cycle['id']}"
    _kept(client).clear()
    assert client.get("/api/v1/teams", headers=a).status_code == 200
    with counting(app, cold=False) as read:
        kept = client.get(url, headers=a)
    assert kept.status_code == 200
    read = [s for s in read if not s.startswith("SELECT user_account.")]  # the caller
    assert len(read) == 1, read
    assert "content_revision" in read[0]
    _kept(client).clear()
    assert client.get(url, headers=a).json() == kept.json()  # as built afresh
    member = {
        "t": _uuid(sync_engine, uuid.UUID(cycle["id"])),
        "u": _uuid(sync_engine, world.teacher_a2.id),
    }
    _sql(sync_engine, "DELETE FROM team_member WHERE team_id = :t AND user_id = :u", **member)
    gone = client.get(url, headers=a)
    assert gone.status_code == 404, gone.text
