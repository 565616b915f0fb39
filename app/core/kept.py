"""Documents a worker keeps once built, exact through revision counters the database keeps.

A team's summary reads eight statements and assembles them, its printable form renders them
besides, a year-end report computes each team's progress and a calendar feed writes each
team's events with their people as VEVENTs; what they are built from changes a few times a
day. So each worker keeps what it built (a document, a report's row or a feed's events, per
team and reader), and serves it again only while nothing it was built from can have changed:

- **What changed**: `content_revision` holds a counter per team and one for the district (the
  nil id). Triggers (migration 0043) raise the team's counter when a transaction that changed
  any of the team's rows commits (the team, its members, invitations, plan, events and their
  participants, records, learning forms, reflections and their comments, coverage requests;
  a team continuing it, migration 0047),
  and the district's
  when accounts, schools, memberships, school years, focus areas or the program's rules change.
  Whoever wrote (this API, a roster import, the CLI, SQL by hand), the counter moves in the same
  commit as the change. `tests/coaching/test_kept.py` records the tables the documents'
  statements read and fails on any without its trigger.
- **When it changes by itself**: the builder says until when its document holds (an event
  ending unconfirmed, a day turning, an event leaving a feed); past that moment it is built
  again.
- **Who asked**: the key always starts with the caller (account, role and schools), so one
  person's document is never served to another, whatever else the key holds. The caller's
  right to the team is checked on every request before the kept copy is looked up.

The revisions are read inside the request's snapshot before the document would be, so a kept
copy is never older than the revision it is filed under (a copy built from newer rows than its
revision is built again at the next revision). `kept_documents = 0` turns it off;
`kept_documents_mb` bounds what they weigh.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, Uuid, bindparam, select
from sqlmodel import Field, SQLModel, col

from app.core.pagination import PageQuery
from app.core.sql import AnySelect

if TYPE_CHECKING:
    from app.auth.principal import Principal

K = TypeVar("K")

DISTRICT = uuid.UUID(int=0)  # the district's counter in content_revision


class ContentRevision(SQLModel, table=True):
    """How many committed transactions changed a team's content (or, under the nil id, the
    district's shared rows). Written only by the triggers of migration 0043."""

    __tablename__ = "content_revision"

    team_id: uuid.UUID = Field(primary_key=True)
    revision: int = Field(sa_column=Column(BigInteger, nullable=False))


class Revision(BaseModel):
    team_id: uuid.UUID
    revision: int


# The counters of some teams (`teams`, the district's id among them).
REVISIONS = select(col(ContentRevision.team_id), col(ContentRevision.revision)).where(
    col(ContentRevision.team_id).in_(bindparam("teams", expanding=True, type_=Uuid()))
)

# What a kept copy is filed under: (the team's revision, the district's) for a team's document;
# for a document of several teams (`kept_whole_at`), the district's and every team's.
Stamp = Hashable


def caller_key(principal: Principal) -> Hashable:
    """Who asked, as every key starts: the account, its role and its schools."""
    staff = principal.staff
    return (staff.id, staff.role, principal.school_ids)


def weigh(value: Any) -> int:
    """About how many bytes a kept value serves (its text, its JSON): what the store's byte
    budget counts. Its memory is a small multiple of that, the same for every kind."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, BaseModel):
        return len(value.__pydantic_serializer__.to_json(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(weigh(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, tuple | list):
        return sum(weigh(v) for v in value)
    return 16


class KeptDocuments:
    """The documents one worker keeps, least recently used first out once there are more than
    `size` or they weigh more than `max_bytes` (`weigh`)."""

    def __init__(
        self,
        size: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        max_bytes: int | None = None,
    ) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.clock = clock
        self.bytes = 0
        self._entries: OrderedDict[Hashable, tuple[Stamp, datetime | None, Any, int]] = (
            OrderedDict()
        )

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, stamp: Stamp, now: datetime) -> Any | None:
        found = self._entries.get(key)
        if found is None:
            return None
        kept_at, until, value, _ = found
        if kept_at != stamp or (until is not None and now >= until):
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable, stamp: Stamp, until: datetime | None, value: Any) -> None:
        if self.size <= 0:
            return
        weight = weigh(value) if self.max_bytes is not None else 0
        if self.max_bytes is not None and weight > self.max_bytes:
            return  # would push out everything else
        self._drop(key)
        self._entries[key] = (stamp, until, value, weight)
        self.bytes += weight
        while len(self._entries) > self.size or (
            self.max_bytes is not None and self.bytes > self.max_bytes
        ):
            self._drop(next(iter(self._entries)))

    def _drop(self, key: Hashable) -> None:
        found = self._entries.pop(key, None)
        if found is not None:
            self.bytes -= found[3]

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0


Build = Callable[[list[uuid.UUID]], Awaitable[Mapping[uuid.UUID, K]]]
Until = Callable[[K, datetime], datetime | None]


async def kept_at(
    store: KeptDocuments,
    counters: Mapping[uuid.UUID, int],
    principal: Principal,
    key: Hashable,
    team_ids: Sequence[uuid.UUID],
    build: Build[K],
    until: Until[K],
) -> dict[uuid.UUID, K]:
    """The caller's document `key` of each of these teams: kept under these counters (the
    district's under DISTRICT; a team without one has not changed since the counters began),
    or built together by `build(the teams not kept)` and kept until `until(document, moment it
    was built for)`. Run inside the request's snapshot that read the counters, after the
    caller's right to the teams was checked."""
    district = counters.get(DISTRICT, 0)
    who = caller_key(principal)
    now = store.clock()
    result: dict[uuid.UUID, K] = {}
    missing = []
    for team_id in team_ids:
        value = store.get((who, team_id, key), (counters.get(team_id, 0), district), now)
        if value is None:
            missing.append(team_id)
        else:
            result[team_id] = value
    if missing:
        for team_id, built in (await build(missing)).items():
            result[team_id] = built
            stamp = (counters.get(team_id, 0), district)
            _keep(store, (who, team_id, key), stamp, built, until(built, now), now)
    return result


def _keep(
    store: KeptDocuments,
    key: Hashable,
    stamp: Stamp,
    value: Any,
    until: datetime | None,
    now: datetime,
) -> None:
    """Keep what was just built, unless it holds no longer than `now` (it would never be
    served)."""
    if until is None or until > now:
        store.put(key, stamp, until, value)


# The columns the statements below add, and the bind parameter naming the district's counter.
REVISION_COLUMN, DISTRICT_COLUMN, DISTRICT_ID = "kept_revision", "kept_district", "kept_district_id"


class ListedRevision(BaseModel):
    """A team a statement listed, with its counter and the district's (None: never moved, or
    not read)."""

    team_id: uuid.UUID
    kept_revision: int | None = None
    kept_district: int | None = None


def counters_of(listed: Sequence[ListedRevision]) -> dict[uuid.UUID, int]:
    """The counters of listed teams, the district's under DISTRICT, as `kept_at` reads them."""
    counters = {t.team_id: t.kept_revision or 0 for t in listed}
    if listed:
        counters[DISTRICT] = listed[0].kept_district or 0
    return counters


WHOLE = "whole"  # in a key, where a team's id is: a document of several teams, kept as one


def whole_stamp(listed: Sequence[Mapping[str, Any]]) -> Stamp:
    """What a document of all these teams is filed under: the district's counter and each
    team's, by the team's id. Equal only for the same teams, none of which moved. `listed`:
    the listing's rows as the driver returned them (`with_revisions`: no validation on the
    way to a kept copy), compared only with stamps of this worker, so of one engine: a team id
    is SQLite's hex text as it is, PostgreSQL's UUID as its number (so that both compare in
    C; UUIDs compare in Python code)."""
    if not listed:
        return (0, ())
    if isinstance(listed[0]["team_id"], uuid.UUID):
        teams = sorted([(t["team_id"].int, t[REVISION_COLUMN] or 0) for t in listed])
    else:
        teams = sorted([(t["team_id"], t[REVISION_COLUMN] or 0) for t in listed])
    return (listed[0][DISTRICT_COLUMN] or 0, tuple(teams))


async def kept_whole_at(
    store: KeptDocuments,
    listed: Sequence[Mapping[str, Any]],
    principal: Principal,
    key: Hashable,
    build: Callable[[], Awaitable[K]],
    until: Until[K],
) -> K:
    """The caller's document `key` built from these teams' content (listed with their counters
    in this snapshot, as `whole_stamp` takes them: every team whose rows it may show), kept as
    one until one of them moves, the list changes or `until(document, moment it was built
    for)`. Run inside the request's snapshot that listed them, after the caller's right to
    them was checked. None listed: built, not kept (the district's counter was not read)."""
    if not listed:
        return await build()
    entry = (caller_key(principal), WHOLE, key)
    stamp = whole_stamp(listed)
    now = store.clock()
    found = store.get(entry, stamp, now)
    if found is not None:
        return found
    built = await build()
    _keep(store, entry, stamp, built, until(built, now), now)
    return built


def with_district(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values of a statement built below: the caller's, and the district counter's id."""
    return {**values, DISTRICT_ID: DISTRICT}


def _counter_columns(team_id: Any) -> list[Any]:
    """The team's counter and the district's, as two columns (REVISION_COLUMN,
    DISTRICT_COLUMN) of a statement reading the team (`team_id`, one of its columns)."""

    def counter(of: Any) -> Any:
        found = select(col(ContentRevision.revision)).where(col(ContentRevision.team_id) == of)
        return found.scalar_subquery()

    return [
        counter(team_id).label(REVISION_COLUMN),
        counter(bindparam(DISTRICT_ID, type_=Uuid())).label(DISTRICT_COLUMN),
    ]


@functools.cache
def revisions_alongside(stmt: AnySelect, team_column: str) -> AnySelect:
    """A statement reading a team (its column `team_column`) that reads its counters too, for
    a kept document of the team looked up next in the same snapshot."""
    return stmt.add_columns(*_counter_columns(stmt.selected_columns[team_column]))


@functools.cache
def page_with_revisions(query: PageQuery) -> PageQuery:
    """A list of teams (a `team_id` column) whose page's rows carry their counters, looked up
    for the page's rows only."""
    if not query.template:
        raise ValueError("only a template PageQuery (built once) may be kept")
    extra = query.per_row

    def per_row(rows: Any) -> list[Any]:
        return [*(extra(rows) if extra is not None else []), *_counter_columns(rows.team_id)]

    return PageQuery(query.stmt, query.order, per_row)


@functools.cache
def with_revisions(teams: AnySelect) -> AnySelect:
    """A statement listing team ids (its first column), each with its counters: the list and
    what a kept copy is checked against, in one statement."""
    listed = teams.subquery("listed")
    return select(listed.c[0].label("team_id"), *_counter_columns(listed.c[0]))
