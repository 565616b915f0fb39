"""Signed-in accounts kept in memory per worker, and the notifications that keep them exact."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, text, update

from app.auth.principal import Principal, Staff
from app.auth.principal_cache import PrincipalCache
from app.main import create_app
from app.users.models import Role, SchoolMembership, User
from tests.coaching.conftest import make_team
from tests.conftest import ENGINE
from tests.test_query_counts import counting

postgres_only = pytest.mark.skipif(ENGINE != "postgres", reason="PostgreSQL notifications")


def staff(user_id: uuid.UUID | None = None, token_version: int = 0) -> Principal:
    now = datetime.now(UTC)
    return Principal(
        user=Staff(
            id=user_id or uuid.uuid4(),
            email="a@example.org",
            given_name="A",
            family_name="B",
            role=Role.teacher,
            sourced_id=None,
            is_active=True,
            token_version=token_version,
            invited_at=None,
            activated_at=None,
            created_at=now,
            updated_at=now,
        )
    )


def live_cache(**kwargs) -> PrincipalCache:
    cache = PrincipalCache(**kwargs)
    cache.set_live(True)
    return cache


def test_keeps_nothing_unless_live():
    cache = PrincipalCache()
    p = staff()
    cache.put(p, cache.ticket())
    assert cache.get(p.user.id, 0) is None
    assert len(cache) == 0
    cache.set_live(True)
    cache.put(p, cache.ticket())
    assert cache.get(p.user.id, 0) is p
    cache.set_live(False)  # the feed lost its connection: forget everything
    assert len(cache) == 0
    assert cache.get(p.user.id, 0) is None


def test_a_read_that_began_before_a_change_is_not_kept():
    cache = live_cache()
    p = staff()
    ticket = cache.ticket()
    cache.changed(str(uuid.uuid4()))  # any notification while the account was being read
    cache.put(p, ticket)
    assert cache.get(p.user.id, 0) is None
    cache.put(p, cache.ticket())
    assert cache.get(p.user.id, 0) is p


def test_notifications_drop_the_named_accounts_or_all():
    cache = live_cache()
    a, b, c = staff(), staff(), staff()
    for p in (a, b, c):
        cache.put(p, cache.ticket())
    cache.changed(f"{a.user.id},{b.user.id}")
    assert cache.get(a.user.id, 0) is None
    assert cache.get(b.user.id, 0) is None
    assert cache.get(c.user.id, 0) is c
    cache.changed("*")
    assert len(cache) == 0
    cache.put(c, cache.ticket())
    cache.changed("not-an-id")  # a payload we do not understand empties the cache
    assert len(cache) == 0


def test_token_version_expiry_and_size():
    now = [1000.0]
    cache = live_cache(ttl=60, size=2, clock=lambda: now[0])
    p = staff(token_version=3)
    cache.put(p, cache.ticket())
    assert cache.get(p.user.id, 2) is None  # an older token is left to the database check
    assert cache.get(p.user.id, 3) is p
    now[0] += 61
    assert cache.get(p.user.id, 3) is None
    assert len(cache) == 0
    first, second, third = staff(), staff(), staff()
    for q in (first, second, third):
        cache.put(q, cache.ticket())
    assert len(cache) == 2
    assert cache.get(first.user.id, 0) is None


def test_own_commits_of_staff_tables_empty_the_cache():
    cache = live_cache()
    p = staff()
    cache.put(p, cache.ticket())
    cache.after_commit({"team", "event"})
    assert cache.get(p.user.id, 0) is p
    cache.after_commit({"school_membership"})
    assert cache.get(p.user.id, 0) is None


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def statements_for(app, client, path, headers) -> int:
    with counting(app, cold=False) as seen:
        assert client.get(path, headers=headers).status_code == 200
    return len(seen)


def test_sqlite_keeps_accounts_until_the_district_changes(
    app, client, sync_engine, world, factory, auth
):
    """Any commit by another connection moves `PRAGMA data_version`; only one that raised the
    district's revision (staff, schools, ...) empties the cache. Teams' content does not."""
    if ENGINE != "sqlite":
        pytest.skip("SQLite only")
    team = make_team(client, world, factory, auth)
    h = auth(world.admin_a)
    assert app.state.principal_feed is None
    assert app.state.principals.live
    app.state.principals.clear()
    assert statements_for(app, client, "/api/v1/users", h) == 2  # the account, the page
    assert statements_for(app, client, "/api/v1/users", h) == 1  # the page only
    changes = [
        # (a commit by another connection, whether it empties the cache)
        (f"UPDATE team SET name = name || '.' WHERE id = '{uuid.UUID(team['id']).hex}'", False),
        ("UPDATE school SET name = name || '.'", True),
        (f"UPDATE user_account SET given_name = 'Al' WHERE id = '{world.admin_a.id.hex}'", True),
        (
            "INSERT INTO school_membership (user_id, school_id) "
            f"VALUES ('{world.admin_a.id.hex}', '{world.school_b.id.hex}')",
            True,
        ),
        (f"DELETE FROM school_membership WHERE school_id = '{world.school_b.id.hex}'", True),
    ]
    for statement, empties in changes:
        with sync_engine.begin() as conn:
            conn.execute(text(statement))
        expected = 2 if empties else 1
        assert statements_for(app, client, "/api/v1/users", h) == expected, statement
        assert statements_for(app, client, "/api/v1/users", h) == 1, statement


def test_sqlite_checks_for_commits_without_a_statement_while_nothing_changed(
    app, client, sync_engine, world, auth, monkeypatch
):
    """Before each lookup the worker compares the WAL index's header (`commit_marker`) with the
    last one seen: nothing committed, no `PRAGMA data_version`; a commit anywhere, one."""
    if ENGINE != "sqlite":
        pytest.skip("SQLite only")
    driver = app.state.db.driver
    versions: list[int] = []
    real = driver.data_version

    def counted() -> int:
        versions.append(real())
        return versions[-1]

    monkeypatch.setattr(driver, "data_version", counted)
    h = auth(world.admin_a)
    client.get("/api/v1/me", headers=h)
    client.get("/api/v1/me", headers=h)
    asked = len(versions)
    for _ in range(5):
        assert client.get("/api/v1/me", headers=h).status_code == 200
    assert len(versions) == asked  # nothing committed: the header alone answered
    with sync_engine.begin() as conn:
        conn.execute(
            text(f"UPDATE user_account SET given_name = 'Al' WHERE id = '{world.admin_a.id.hex}'")
        )
    assert client.get("/api/v1/me", headers=h).json()["given_name"] == "Al"
    assert len(versions) == asked + 1


def test_every_table_a_principal_is_read_from_raises_the_district_revision_on_sqlite(
    sync_engine,
):
    """On SQLite the cache follows the district's revision: each table of STAFF_TABLES needs
    migration 0043's trigger raising it on UPDATE and DELETE, and on INSERT but for the
    account table (a new account is in nobody's cache)."""
    if ENGINE != "sqlite":
        pytest.skip("SQLite only")
    from app.auth.principal_cache import STAFF_TABLES
    from app.core.kept import DISTRICT

    with sync_engine.connect() as conn:
        triggers = conn.execute(
            text("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
        ).all()
    nil = f"'{DISTRICT.hex}'"  # SQLite stores ids as 32 hex digits
    raising = {
        (table, event)
        for table, sql in triggers
        for event in ("INSERT", "UPDATE", "DELETE")
        if f"AFTER {event} ON {table}" in sql and "content_revision" in sql and nil in sql
    }
    assert {"user_account", "school_membership"} == STAFF_TABLES
    for table in STAFF_TABLES:
        events = {"UPDATE", "DELETE"} | ({"INSERT"} if table != "user_account" else set())
        assert {(table, event) for event in events} <= raising, table


@postgres_only
def test_a_signed_in_account_is_read_once_then_kept(app, client, world, auth):
    assert eventually(lambda: app.state.principals.live)
    h = auth(world.admin_a)
    app.state.principals.clear()
    assert statements_for(app, client, "/api/v1/users", h) == 2  # the account, the page
    assert statements_for(app, client, "/api/v1/users", h) == 1  # the page only


def test_changes_reach_another_worker(app, client, settings, sync_engine, world, auth):
    """A second app instance stands for another worker or host on the same database."""
    other_app = create_app(settings)
    with TestClient(other_app, raise_server_exceptions=False) as other:
        assert eventually(lambda: other_app.state.principals.live)
        teacher = auth(world.teacher_a)
        assert other.get("/api/v1/me", headers=teacher).json()["role"] == "teacher"
        assert world.teacher_a.id in other_app.state.principals._entries

        # Changed by SQL outside the app: the database tells every worker.
        with sync_engine.begin() as conn:
            conn.execute(
                update(User).where(User.id == world.teacher_a.id).values(role=Role.school_admin)
            )
        assert eventually(
            lambda: other.get("/api/v1/me", headers=teacher).json()["role"] == "school_admin"
        )
        # A new school membership, through SQL too.
        assert other.get("/api/v1/users", headers=teacher).json()["total"] >= 1
        with sync_engine.begin() as conn:
            conn.execute(
                insert(SchoolMembership).values(
                    user_id=world.teacher_a.id, school_id=world.school_b.id
                )
            )
        assert eventually(
            lambda: any(
                u["id"] == str(world.teacher_b.id)
                for u in other.get("/api/v1/users?limit=200", headers=teacher).json()["items"]
            )
        )

        # Deactivated through the API of the first worker: the second refuses the token.
        start = time.monotonic()
        r = client.patch(
            f"/api/v1/users/{world.teacher_a.id}",
            json={"is_active": False},
            headers=auth(world.district_admin),
        )
        assert r.status_code == 200
        assert eventually(lambda: other.get("/api/v1/me", headers=teacher).status_code == 401)
        assert time.monotonic() - start < 5


def test_the_worker_that_commits_a_change_forgets_at_once(app, client, world, auth, monkeypatch):
    """Without its own notification (PostgreSQL) or the commit counter (SQLite): both are
    ignored here, so only the after-commit hook is left."""
    cache = app.state.principals
    assert eventually(lambda: cache.live)
    monkeypatch.setattr(cache, "poll", lambda: None)
    if app.state.principal_feed is not None:
        monkeypatch.setattr(app.state.principal_feed, "deliver", lambda payload: None)
    teacher = auth(world.teacher_a)
    assert client.get("/api/v1/me", headers=teacher).status_code == 200
    assert world.teacher_a.id in cache._entries
    r = client.patch(
        f"/api/v1/users/{world.teacher_a.id}",
        json={"is_active": False},
        headers=auth(world.admin_a),
    )
    assert r.status_code == 200
    assert client.get("/api/v1/me", headers=teacher).status_code == 401


@postgres_only
def test_a_lost_feed_empties_the_cache_until_it_listens_again(
    app, client, sync_engine, world, auth
):
    cache, feed = app.state.principals, app.state.principal_feed
    assert eventually(lambda: cache.live)
    h = auth(world.teacher_a)
    assert client.get("/api/v1/me", headers=h).status_code == 200
    assert len(cache) >= 1
    states: list[bool] = []
    on_live = feed.on_live
    feed.on_live = lambda live: (states.append(live), on_live(live))
    try:
        pid = feed._conn.pgconn.backend_pid
        with sync_engine.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        # Not live and emptied as soon as the socket says so; then listening again.
        assert eventually(lambda: states[:2] == [False, True])
        assert cache.live
        assert feed._conn.pgconn.backend_pid != pid
        assert client.get("/api/v1/me", headers=h).status_code == 200
    finally:
        feed.on_live = on_live


async def _watched_descriptors_are_open_and_a_new_socket_is_served() -> None:
    """What a lost listener connection broke: the loop kept watching the descriptor libpq had
    closed, so the next socket given that number (here a pipe; in production an accepted
    request) was never reported readable and hung."""
    loop = asyncio.get_running_loop()
    for key in list(loop._selector.get_map().values()):  # type: ignore[attr-defined]
        os.fstat(key.fd)  # EBADF: the loop watches a closed descriptor
    read_fd, write_fd = os.pipe()
    ready = loop.create_future()
    try:
        loop.add_reader(read_fd, lambda: ready.done() or ready.set_result(True))
        os.write(write_fd, b"x")
        await asyncio.wait_for(ready, 2)
    finally:
        loop.remove_reader(read_fd)
        os.close(read_fd)
        os.close(write_fd)


@postgres_only
def test_a_lost_feed_connection_leaves_no_descriptor_watched(app, client, sync_engine):
    cache, feed = app.state.principals, app.state.principal_feed
    assert eventually(lambda: cache.live)
    states: list[bool] = []
    on_live = feed.on_live
    feed.on_live = lambda live: (states.append(live), on_live(live))
    try:
        with sync_engine.begin() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": feed._conn.pgconn.backend_pid}
            )
        assert eventually(lambda: False in states)
        # Before the feed reconnects (its backoff is half a second).
        client.portal.call(_watched_descriptors_are_open_and_a_new_socket_is_served)
        assert eventually(lambda: states[-1] is True, timeout=10)
        client.portal.call(_watched_descriptors_are_open_and_a_new_socket_is_served)
        assert client.get("/healthz").status_code == 200
    finally:
        feed.on_live = on_live


@postgres_only
def test_a_silent_feed_is_found_by_its_heartbeat(settings, world, auth):
    app = create_app(settings)
    app.state.principal_feed.heartbeat = 0.1
    with TestClient(app, raise_server_exceptions=False) as c:
        cache, feed = app.state.principals, app.state.principal_feed
        assert eventually(lambda: cache.live)
        time.sleep(0.5)  # several heartbeats come back: it stays live
        assert cache.live
        states: list[bool] = []
        on_live = feed.on_live
        feed.on_live = lambda live: (states.append(live), on_live(live))
        # Echoes now go to a channel nobody listens to, as if the connection had gone quiet.
        feed.echo_channel, real = f"nobody_{uuid.uuid4().hex}", feed.echo_channel
        assert eventually(lambda: False in states, timeout=5)
        assert c.get("/api/v1/me", headers=auth(world.teacher_a)).status_code == 200
        assert len(cache) == 0  # not live: nothing kept
        feed.echo_channel = real
        assert eventually(lambda: states[-1] is True and cache.live, timeout=10)


def test_turned_off_every_request_reads_the_account(settings, world, auth):
    app = create_app(settings.model_copy(update={"principal_cache_seconds": 0}))
    h = auth(world.teacher_a)
    with TestClient(app, raise_server_exceptions=False) as c:
        for _ in range(3):
            assert statements_for(app, c, "/api/v1/me", h) == 1  # the account, each time
        assert app.state.principal_feed is None
        assert not app.state.principals.live


@postgres_only
def test_every_table_a_principal_is_read_from_notifies_its_changes(sync_engine):
    """The tables come from the statement that reads a principal; each must have the change
    trigger of migration 0010, or a change to it would leave other workers' caches stale."""
    from app.auth.principal_cache import STAFF_TABLES

    with sync_engine.connect() as conn:
        notifying = set(
            conn.execute(
                text(
                    "SELECT DISTINCT c.relname FROM pg_trigger t "
                    "JOIN pg_class c ON c.oid = t.tgrelid "
                    "JOIN pg_proc p ON p.oid = t.tgfoid "
                    "WHERE p.proname = 'peercoach_staff_changed' AND NOT t.tgisinternal"
                )
            ).scalars()
        )
    assert {"user_account", "school_membership"} == STAFF_TABLES
    assert notifying >= STAFF_TABLES, STAFF_TABLES - notifying
