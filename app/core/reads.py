"""The read interface: how every GET reads the database.

Domain code builds a statement (SQLAlchemy Core, plain columns, named like the fields of its API
schema) and names the schema; `Reads` runs it and hands back validated `T`, `list[T]` or
`Page[T]`. It never hands out rows, dicts or driver values (SQLite's hex UUIDs, naive
timestamps), and domain code never learns which connection or driver ran its statement
(`drivers.py`, `compiled.py`).

One response, one snapshot. A response read by one statement is consistent by itself; a
response that needs several (a composite document, an access check followed by its content)
reads them inside `snapshot()`, on one connection in one read-only transaction. A second
statement outside a snapshot in the same request is a bug and raises, so no answer is ever
stitched together from two moments of the database.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import exists, literal_column, select

from app.core.drivers import Driver, Fetch
from app.core.errors import NotFound
from app.core.kept import (
    DISTRICT,
    DISTRICT_COLUMN,
    REVISION_COLUMN,
    REVISIONS,
    KeptDocuments,
    ListedRevision,
    Revision,
    counters_of,
    kept_at,
    kept_whole_at,
    page_with_revisions,
    revisions_alongside,
    with_district,
    with_revisions,
)
from app.core.pagination import (
    COUNT_UP_TO,
    LIMIT,
    OFFSET,
    TOTAL,
    Page,
    PageParams,
    PageQuery,
    count_up_to,
    counted,
    is_exact,
    next_link,
    with_total,
)
from app.core.sql import AnySelect

if TYPE_CHECKING:
    from app.auth.principal import Principal

T = TypeVar("T", bound=BaseModel)
K = TypeVar("K")
A = TypeVar("A")


@dataclass(frozen=True, slots=True)
class Bound:
    """A statement built once (module level, or cached per kind of caller and filter) with the
    values of its bind parameters for this call. `Reads` finds its compiled form by identity,
    without SQLAlchemy's cache key: building a statement and keying it cost more than running
    a small one (bench/README.md). Everything that varies per call must be a bind parameter."""

    stmt: AnySelect
    values: Mapping[str, Any]


Statement = AnySelect | Bound


@dataclass(frozen=True, slots=True)
class Within:
    """The record a list belongs to (a post's comments, a team's invitations), which the caller
    must see: `check` reads a row if they do (the record's visibility rule plus its id, a
    template), `missing` is the 404's text. `Reads.page(..., within=)` (or `Reads.all`) reads
    the page guarded by the check in one statement, and checks apart only when the page comes
    back empty."""

    check: Bound
    missing: str
    # For an empty page, when the record's own dependency tells apart more than "not there"
    # (a team without a plan): run in the snapshot instead of the check; it raises its 404s.
    explain: Callable[[], Awaitable[object]] | None = None


@cache
def _guarded_select(stmt: AnySelect, check: AnySelect) -> AnySelect:
    """`stmt` reading nothing unless `check` finds its row. The check is a CTE: SQL scopes its
    body apart, so nothing in it (the visibility rule's own subqueries) can correlate with the
    statement's tables, and the list of a record nobody may see costs what an unknown id's
    does."""
    return stmt.where(exists(select(literal_column("1")).select_from(_parent(check))))


@cache
def _parent(check: AnySelect) -> Any:
    """The check as one CTE, however many selects of a statement it guards (a list's parts)."""
    return check.cte("parent")


@cache
def _guarded(query: PageQuery, check: AnySelect) -> PageQuery:
    """`_guarded_select` for a page."""
    if not query.template:
        raise ValueError("a guarded page is a template (PageQuery built once)")
    return PageQuery(
        _guarded_select(query.stmt, check),
        query.order,
        query.per_row,
        parts=[_guarded_select(part, check) for part in query.parts],  # the count's too
    )


def _merged(values: Mapping[str, Any], more: Mapping[str, Any]) -> dict[str, Any]:
    clash = [k for k in values.keys() & more.keys() if values[k] != more[k]]
    if clash:
        raise ValueError(f"the page and its check bind {clash} to different values")
    return {**values, **more}


def _unbound(
    stmt: Statement, values: Mapping[str, Any] | None, fixed: bool
) -> tuple[AnySelect, Mapping[str, Any] | None, bool]:
    if isinstance(stmt, Bound):
        return stmt.stmt, {**stmt.values, **(values or {})}, True
    return stmt, values, fixed


class TwoSnapshots(RuntimeError):
    """A request ran a second statement outside `Reads.snapshot()`."""


class _NeedsSnapshot(Exception):
    """`Reads.at_one_moment`'s try without a snapshot reached a second statement."""


@cache
def _list_of(schema: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[schema])  # type: ignore[valid-type]


class Reads:
    """The reads of one request (one instance per request, see `deps.ReadsDep`)."""

    def __init__(
        self, driver: Driver, request: Request | None = None, *, kept: KeptDocuments | None = None
    ) -> None:
        self._driver = driver
        self._request = request
        self._kept = kept
        self._fetch: Fetch | None = None
        self._alone = 0
        self._optimistic = False  # in `at_one_moment`'s first try
        # Revision counters read in the current snapshot (kept.py), the district's under
        # DISTRICT: a kept document looked up later in it needs not read them again.
        self._counters: dict[uuid.UUID, int] = {}

    async def _rows(
        self, stmt: AnySelect, values: Mapping[str, Any] | None, *, fixed: bool, raw: bool
    ) -> list[dict[str, Any]]:
        if self._fetch is None:
            self._alone += 1
            if self._alone > 1:
                if self._optimistic:
                    raise _NeedsSnapshot
                raise TwoSnapshots(
                    "a second statement outside Reads.snapshot(): the answer would mix two "
                    "moments of the database"
                )
        return await self._driver.rows(stmt, values, raw=raw, fixed=fixed, on=self._fetch)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[None]:
        """Every statement read inside the block sees the same committed state."""
        if self._one_moment:  # already inside one (or `at_one_moment`'s try)
            yield
            return
        async with self._driver.snapshot() as fetch:
            self._fetch = fetch
            try:
                yield
            finally:
                self._fetch = None
                self._counters = {}

    async def at_one_moment(self, read: Callable[[], Awaitable[K]]) -> K:
        """`read()`'s statements as one moment of the database, as in `snapshot()`; a read
        whose first statement is all it needs answers from that statement alone, with no
        transaction around it.

        Made for kept documents: when the caller's access and the revision counters come in
        one statement and the document is kept, nothing else is read, and the snapshot's
        BEGIN and COMMIT (on PostgreSQL the COMMIT's round trip) bought nothing. So, outside
        a snapshot and while documents are kept, `read()` is first tried with none: its first
        statement runs alone, and a second statement, or a kept document's build, drops the
        try instead of running: `read()` runs again from the start inside `snapshot()` (a miss
        reads its first statement twice). `read()` must do nothing but read until then, one
        statement after another (nothing of it left running when the try is dropped)."""
        if self._one_moment or self._alone or not self._keeping:
            async with self.snapshot():
                return await read()
        self._optimistic = True
        try:
            return await read()
        except _NeedsSnapshot:
            pass
        finally:
            self._optimistic = False
            self._counters = {}
        self._alone = 0  # the try's statement answers nothing
        async with self.snapshot():
            return await read()

    def _building(self, build: Callable[[A], Awaitable[K]]) -> Callable[[A], Awaitable[K]]:
        """`build` as a kept document's miss calls it: in `at_one_moment`'s try, that starts
        over in a snapshot first (a build reads more than one statement)."""

        async def building(arg: A) -> K:
            if self._optimistic:
                raise _NeedsSnapshot
            return await build(arg)

        return building

    async def kept(
        self,
        principal: Principal,
        key: Hashable,
        team_id: uuid.UUID,
        build: Callable[[], Awaitable[K]],
        *,
        until: Callable[[K, datetime], datetime | None],
    ) -> K:
        """A document of one team the caller has asked for before, as kept by this worker if
        nothing it was built from has changed since (kept.py), else `build()` and keep it until
        `until(document, the moment it was built for)`. The caller's right to the team is
        checked before, in the same snapshot: this only decides whether to build again."""

        async def build_one(_: list[uuid.UUID]) -> dict[uuid.UUID, K]:
            return {team_id: await build()}

        found = await self.kept_each(principal, key, [team_id], build_one, until=until)
        return found[team_id]

    async def kept_each(
        self,
        principal: Principal,
        key: Hashable,
        team_ids: Sequence[uuid.UUID],
        build: Callable[[list[uuid.UUID]], Awaitable[Mapping[uuid.UUID, K]]],
        *,
        until: Callable[[K, datetime], datetime | None],
    ) -> dict[uuid.UUID, K]:
        """`kept` for several teams at once (a report's page): those not kept are built by one
        `build(their ids)`. Counters this snapshot has not read yet are read in one
        statement."""
        async with self.snapshot():
            if not self._keeping or not team_ids:
                return dict(await build(list(team_ids)))
            assert self._kept is not None
            unread = [t for t in [*team_ids, DISTRICT] if t not in self._counters]
            if unread:
                found = {r.team_id: r.revision for r in await self._revisions(unread)}
                self._counters.update({t: found.get(t, 0) for t in unread})
            return await kept_at(
                self._kept, self._counters, principal, key, team_ids, self._building(build), until
            )

    @property
    def _one_moment(self) -> bool:
        """Whether the statements read now answer as one moment: inside `snapshot()`, or in
        `at_one_moment`'s try (where a second statement starts over in a snapshot)."""
        return self._fetch is not None or self._optimistic

    @property
    def _keeping(self) -> bool:
        return self._kept is not None and self._kept.size > 0

    async def kept_whole(
        self,
        principal: Principal,
        key: Hashable,
        teams: Bound,
        build: Callable[[list[uuid.UUID] | None], Awaitable[K]],
        *,
        until: Callable[[K, datetime], datetime | None],
        at_most: int,
    ) -> K:
        """A document built from several teams' content, kept as one (kept.py
        `kept_whole_at`): `teams` lists (its first column, team ids) every team whose rows the
        document may show, whatever it then selects of them, and is read with their counters;
        the document is served again while the same teams are listed and none of them moved,
        else `build(their ids)` (the counters read, for `kept_each` of some of them). More
        than `at_most` (limit the statement to one more), or nothing kept: `build(None)`, read
        whole, not kept."""
        if not self._keeping:
            async with self.snapshot():
                return await build(None)

        async def read() -> K:
            assert self._kept is not None
            # The driver's rows, not validated: a hit needs only their stamp (a school's 50
            # teams validated and keyed by UUID cost a kept CSV a fifth of its time).
            stmt, values = with_revisions(teams.stmt), with_district(teams.values)
            rows = await self._rows(stmt, values, fixed=True, raw=True)
            building = self._building(build)
            if len(rows) > at_most:
                return await building(None)

            async def build_listed() -> K:
                listed = _list_of(ListedRevision).validate_python(rows)
                self._counters.update(counters_of(listed))
                return await building([t.team_id for t in listed])

            return await kept_whole_at(self._kept, rows, principal, key, build_listed, until)

        return await self.at_one_moment(read)

    async def kept_page(
        self,
        principal: Principal,
        key: Hashable,
        teams: PageQuery,
        params: PageParams,
        values: Mapping[str, Any],
        build: Callable[[list[uuid.UUID]], Awaitable[Mapping[uuid.UUID, K]]],
        *,
        until: Callable[[K, datetime], datetime | None],
    ) -> tuple[Page[ListedRevision], dict[uuid.UUID, K]]:
        """`kept_each` for a page of a list of teams (a `team_id` column: those the caller may
        see a document of), its rows read with their counters in the same statement."""

        async def read() -> tuple[Page[ListedRevision], dict[uuid.UUID, K]]:
            if self._keeping:
                listing = page_with_revisions(teams)
                page = await self.page(ListedRevision, listing, params, with_district(values))
                self._counters.update(counters_of(page.items))
            else:
                page = await self.page(ListedRevision, teams, params, values)
            ids = [t.team_id for t in page.items]
            return page, await self.kept_each(principal, key, ids, build, until=until)

        return await self.at_one_moment(read)

    async def _revisions(self, teams: list[uuid.UUID]) -> list[Revision]:
        return await self.all(Revision, Bound(REVISIONS, {"teams": teams}))

    async def one(
        self,
        schema: type[T],
        stmt: Statement,
        values: Mapping[str, Any] | None = None,
        *,
        fixed: bool = False,
        counters_of: str | None = None,
    ) -> T | None:
        """The first row as `schema`, or None when there is none. `counters_of`: the row is a
        team's (that field holds its id) and a kept document of it is looked up next in this
        snapshot: its revision counters are read in the same statement."""
        stmt, values, fixed = _unbound(stmt, values, fixed)
        counting = counters_of is not None and fixed and self._keeping and self._one_moment
        if counting:
            stmt = revisions_alongside(stmt, counters_of)
            values = with_district(values or {})
        rows = await self._rows(stmt, values, fixed=fixed, raw=True)
        if not rows:
            return None
        found = schema.model_validate(rows[0])
        if counting:
            self._counters[getattr(found, str(counters_of))] = rows[0][REVISION_COLUMN] or 0
            self._counters[DISTRICT] = rows[0][DISTRICT_COLUMN] or 0
        return found

    async def all(
        self,
        schema: type[T],
        stmt: Statement,
        values: Mapping[str, Any] | None = None,
        *,
        fixed: bool = False,
        within: Within | None = None,
    ) -> list[T]:
        """Every row, as `schema` (validated in one call). `within`: the record the rows belong
        to, which the caller must see, as for `page`: rows found were read in one statement
        guarded by its check; none are read again in a snapshot after the check alone."""
        stmt, values, fixed = _unbound(stmt, values, fixed)
        if within is not None and not self._one_moment:
            if not fixed:
                raise ValueError("a list within a record is a template (a Bound statement)")
            guarded = _guarded_select(stmt, within.check.stmt)
            merged = _merged(values or {}, within.check.values)
            found = await self.all(schema, guarded, merged, fixed=True)
            if found:
                return found
            self._alone -= 1  # nothing of it is answered: the snapshot below answers alone
            async with self.snapshot():
                return await self.all(schema, stmt, values, fixed=True, within=within)
        if within is not None:  # in a snapshot: the record's check, then its rows
            await self._confirm(within)
        rows = await self._rows(stmt, values, fixed=fixed, raw=True)
        result: list[T] = _list_of(schema).validate_python(rows)
        return result

    async def _confirm(self, within: Within) -> None:
        """404 (or the record's own explanation) unless the caller sees the record."""
        if within.explain is not None:
            await within.explain()
        elif await self.value(within.check) is None:
            raise NotFound(within.missing)

    async def value(
        self, stmt: Statement, values: Mapping[str, Any] | None = None, *, fixed: bool = False
    ) -> Any:
        """The first column of the first row (a count, an exists), as a Python value."""
        stmt, values, fixed = _unbound(stmt, values, fixed)
        rows = await self._rows(stmt, values, fixed=fixed, raw=False)
        return next(iter(rows[0].values())) if rows else None

    async def page(
        self,
        schema: type[T],
        query: AnySelect | PageQuery,
        params: PageParams,
        values: Mapping[str, Any] | None = None,
        *,
        within: Within | None = None,
    ) -> Page[T]:
        """One page of an ordered select, with the total and the next page's link.

        `query` is a statement built for this request, or a `PageQuery` template with the
        `values` of its bind parameters (see pagination.py). `within`: the record the list
        belongs to, which the caller must see (404 otherwise): a page with rows was read in one
        statement guarded by its check; an empty one is read again in a snapshot after the
        check alone, so the 404 and the empty page each answer one moment."""
        if within is not None and not self._one_moment:
            if not isinstance(query, PageQuery):
                raise ValueError("a page within a record is a PageQuery template")
            guarded = _guarded(query, within.check.stmt)
            found = await self.page(
                schema, guarded, params, _merged(values or {}, within.check.values)
            )
            if found.items:
                return found
            self._alone -= 1  # nothing of it is answered: the snapshot below answers alone
            async with self.snapshot():
                return await self.page(schema, query, params, values, within=within)
        if within is not None:  # in a snapshot: the record's check, then its page
            await self._confirm(within)
        up_to = count_up_to(params)
        if isinstance(query, PageQuery):
            fixed = query.template
            args: Mapping[str, Any] = {
                **(values or {}),
                LIMIT: params.limit,
                OFFSET: params.offset,
                COUNT_UP_TO: up_to,
            }
            paged = query.page
        else:
            fixed = False
            args = {**(values or {}), COUNT_UP_TO: up_to}
            paged = with_total(query).limit(params.limit).offset(params.offset)
        rows = await self._rows(paged, args, fixed=fixed, raw=True)
        if rows:
            total = int(rows[0][TOTAL])
        elif params.offset == 0:
            total = 0
        else:
            # A page past the end has no row to carry the total; the answer holds nothing
            # else, so counting apart cannot mix two moments.
            self._alone -= 1
            count = query.count if isinstance(query, PageQuery) else counted(query)
            total = int(
                await self.value(count, {**(values or {}), COUNT_UP_TO: up_to}, fixed=fixed)
            )
        page_type: Any = Page[schema]  # type: ignore[valid-type]
        result: Page[T] = page_type.model_validate(
            {
                "items": rows,
                "total": total,
                "total_exact": is_exact(total, params),
                "limit": params.limit,
                "offset": params.offset,
                "next": None if self._request is None else next_link(self._request, params, total),
            }
        )
        return result
