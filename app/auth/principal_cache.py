"""Signed-in accounts kept in memory per worker, exact through the database's change signals.

Every request needs its caller's account (active? same token version? which role and schools?).
Reading it cost a database statement per request: on PostgreSQL a second round trip, most of
what kept the hot lists from their throughput goal (bench/README.md). So each worker keeps the
principals it has read, and forgets them as soon as the database says they may have changed:

- PostgreSQL: only while the worker listens to the `peercoach_staff` channel
  (app/core/change_feed.py). Triggers on the staff tables (migration 0010) notify it when the
  transaction that changed an account or its schools commits, whoever wrote: this API, a roster
  import, the CLI, SQL by hand. Before each lookup the worker applies the notifications already
  on its socket (`poll`); another worker's change reaches it when PostgreSQL delivers the
  notification, milliseconds after the commit. Losing the connection, or a heartbeat that does
  not come back, empties the cache and stops it until the feed listens again; meanwhile every
  request reads its account. Entries also expire after `ttl` seconds.
- SQLite: before each lookup the worker looks at the WAL index's header, which every commit by
  any connection rewrites (`SqliteDriver.commit_marker`), and, when it moved, reads `PRAGMA
  data_version`, which changes with every commit by any other connection. When that has
  changed, the worker reads the district's content revision (app/core/kept.py), which
  triggers (migration 0043) raise in the same commit as any change to the staff tables (and to
  schools, school years, focus areas and the program's rules); a new revision empties the
  cache. Exact, with no delay, and a commit that changed only teams' content (an event, a
  post: most writes) leaves the accounts kept.
- Either way the worker that commits a staff change empties its cache right after the commit,
  before it answers (`after_commit`), and a read that started before a change is not stored
  after it (the generation check).

Integration keys are not cached: their check reads the key on every request.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable

from sqlalchemy.sql.util import find_tables

from app.auth.principal import STAFF_WITH_SCHOOLS, Principal, Staff
from app.core.change_feed import ChangeFeed
from app.core.db import Database
from app.core.drivers import Driver, PostgresDriver, SqliteDriver
from app.core.kept import DISTRICT, REVISIONS

STAFF_CHANNEL = "peercoach_staff"  # migration 0010's triggers notify here
# The tables a principal is read from (derived from the statement itself): a commit that
# changes any of them empties the committing worker's cache, and migration 0010's triggers
# notify the others (tests/test_principal_cache.py checks each table has its trigger).
STAFF_TABLES = frozenset(t.name for t in find_tables(STAFF_WITH_SCHOOLS))
# SQLite follows the district's content revision (`kept.REVISIONS` of DISTRICT), which
# migration 0043's triggers raise with every change to STAFF_TABLES (an account's INSERT aside:
# a new account is in nobody's cache), checked by tests/test_principal_cache.py.


class PrincipalCache:
    def __init__(
        self,
        *,
        size: int = 10_000,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = size
        self.ttl = ttl
        self.clock = clock
        self.live = False
        self.poll: Callable[[], None] = lambda: None
        self._entries: dict[uuid.UUID, tuple[Principal, float]] = {}
        self._generation = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def active_staff(
        self, reads: Driver, user_id: uuid.UUID, token_version: int | None = None
    ) -> Principal | None:
        """The account as a caller, if it is active (and, given a `token_version`, still at
        it): from memory when known, else read and remembered. The one place a staff
        principal is built, for bearer tokens and calendar feeds' owners alike."""
        known = self.get(user_id, token_version)
        if known is not None:
            return known
        ticket = self.ticket()
        rows = await reads.rows(STAFF_WITH_SCHOOLS, {"user_id": user_id}, fixed=True)
        if not rows:
            return None
        schools = frozenset(r["member_of"] for r in rows if r["member_of"] is not None)
        fields = rows[0]
        del fields["member_of"]
        if not fields["is_active"]:
            return None
        principal = Principal(user=Staff(**fields), school_ids=schools)
        self.put(principal, ticket)
        if token_version is not None and principal.staff.token_version != token_version:
            return None
        return principal

    def get(self, user_id: uuid.UUID, token_version: int | None = None) -> Principal | None:
        if not self.live:
            return None
        self.poll()  # may find the connection lost: then the cache is empty
        entry = self._entries.get(user_id)
        if entry is None:
            return None
        principal, expires = entry
        if expires <= self.clock():
            del self._entries[user_id]
            return None
        assert principal.user is not None
        if token_version is not None and principal.user.token_version != token_version:
            return None  # an older token: the database check answers it
        return principal

    def ticket(self) -> int | None:
        """Taken before reading an account from the database; `put` needs it."""
        return self._generation if self.live else None

    def put(self, principal: Principal, ticket: int | None) -> None:
        """Keep `principal` if nothing changed since its read began (its `ticket`)."""
        if ticket is None or ticket != self._generation or not self.live:
            return
        assert principal.user is not None
        if len(self._entries) >= self.size:
            self._entries.pop(next(iter(self._entries)))  # the oldest entry
        self._entries[principal.user.id] = (principal, self.clock() + self.ttl)

    def clear(self) -> None:
        self._entries.clear()
        self._generation += 1

    def changed(self, payload: str) -> None:
        """A notification: comma-separated account ids, or `*` for all."""
        self._generation += 1
        if payload == "*":
            self._entries.clear()
            return
        for part in payload.split(","):
            try:
                self._entries.pop(uuid.UUID(part), None)
            except ValueError:
                self._entries.clear()  # not ours to understand: be safe
                return

    def set_live(self, live: bool) -> None:
        self.live = live
        self.clear()

    def after_commit(self, tables: Iterable[str]) -> None:
        if not STAFF_TABLES.isdisjoint(tables):
            self.clear()

    def follow(self, db: Database) -> ChangeFeed | None:
        """Watch `db` for staff changes: this worker's own commits always; on PostgreSQL also
        the notification channel, returned as a feed for the caller to start and stop. Without
        a feed the cache never goes live."""
        db.after_commit.append(self.after_commit)
        if isinstance(db.driver, SqliteDriver):
            self._follow_sqlite(db.driver)
            return None
        assert isinstance(db.driver, PostgresDriver)
        feed = ChangeFeed(
            db.driver.conninfo,
            STAFF_CHANNEL,
            deliver=self.changed,
            on_live=self.set_live,
            connect_timeout=db.driver.connect_timeout,
        )
        self.poll = feed.poll
        return feed

    def _follow_sqlite(self, reads: SqliteDriver) -> None:
        """SQLite has no notifications, but it counts commits: before each lookup, see whether
        anything was committed since the last one (the WAL index's header, `commit_marker`,
        about a microsecond; `PRAGMA data_version` where that cannot be read); if any
        connection (another worker, the CLI, an import, this worker's own writes) committed,
        read the district's revision, and forget everything if it moved."""
        seen: list[int | None] = [None]
        seen_revision: list[int | None] = [None]
        seen_marker: list[bytes | None] = [None]

        def poll() -> None:
            marker = reads.commit_marker()  # before the checks below: a commit meanwhile
            if marker is not None and marker == seen_marker[0]:  # is found by the next poll
                return
            seen_marker[0] = marker
            version = reads.data_version()
            if version == seen[0]:
                return
            seen[0] = version
            found = reads.peek(REVISIONS, {"teams": [DISTRICT]})
            revision = found[0]["revision"] if found else None
            if revision != seen_revision[0]:
                seen_revision[0] = revision
                self.clear()

        self.poll = poll
        self.set_live(True)
