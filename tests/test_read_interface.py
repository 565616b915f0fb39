"""The read interface (app/core/reads.py): validated answers, lists inside rows, one snapshot
per response, and the SQLAlchemy releases its internals were written for."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from pydantic import BaseModel
from sqlalchemy import bindparam, func, select

from app.core.compiled import TESTED_SQLALCHEMY, is_tested
from app.core.db import Database
from app.core.pagination import PageParams
from app.core.reads import Reads, TwoSnapshots
from app.core.sql import collected, json_object, nested
from app.schools.models import School
from app.teams import policies as team_policies
from app.teams import service as team_service
from app.teams.models import Team, TeamMember
from app.users.models import Role, SchoolMembership, User
from tests.coaching.test_confidential_rule import principal_of
from tests.dbsetup import on_database
from tests.teams import form_team


def _run(settings, work) -> Any:
    return on_database(settings, lambda db: work(Reads(db.driver), db))


def test_sqlite_json_text_reads_as_the_standard_library_reads_it():
    """The read path parses SQLite's JSON with pydantic-core's parser (compiled.py): the same
    values as `json.loads`, for what SQLite's JSON functions write."""
    import json
    import sqlite3

    from app.core.compiled import _json_from_text

    conn = sqlite3.connect(":memory:")
    values = [None, 0, -7, 2**62, 1.5, 1e-7, "", "plain", 'quote " and \\ slash', "ünï 中文 🙂",
              "line\nbreak\ttab", "2026-11-22T15:00:00Z"]  # fmt: skip
    rows = [conn.execute("SELECT json_object('v', ?)", (v,)).fetchone()[0] for v in values]
    nested_sql = (
        "SELECT json_group_array(json(x)) FROM "
        "(SELECT ? AS x UNION ALL SELECT '{\"a\": [1, 2.5, true, false, null]}')"
    )
    rows.append(conn.execute(nested_sql, ("[]",)).fetchone()[0])
    rows.append(conn.execute("SELECT json(?)", ('{"a":{"b":[{"c":"d"}]},"e":[]}',)).fetchone()[0])
    conn.close()
    for text in rows:
        assert _json_from_text(text) == json.loads(text), text
    assert [_json_from_text(r)["v"] for r in rows[: len(values)]] == values


def _counted_from(stmt) -> str:
    """The FROM of the rows a page's total counts, as SQL."""
    from sqlalchemy.dialects import sqlite

    from app.core.compiled import rows_to_count

    sql = str(rows_to_count(stmt).compile(dialect=sqlite.dialect()))
    return " ".join(sql.split("FROM ", 1)[1].split("WHERE", 1)[0].split())


def test_a_total_is_counted_without_the_joins_that_only_add_columns():
    """A join to one row by its primary key from a foreign key that is never null (or an
    outer join) cannot change how many rows a list has: the total counts without it, unless
    the filter names the joined table. Any other join stays."""
    from sqlalchemy.orm import aliased

    from app.coverage.models import CoverageRequest
    from app.events.models import Event
    from app.resources.models import Resource, ResourceReview

    def base():
        return select(CoverageRequest.id).join(Event, Event.id == CoverageRequest.event_id)

    school = CoverageRequest.school_id == uuid.uuid4()
    assert _counted_from(base().where(school)) == "coverage_request"
    both = base().join(User, User.id == CoverageRequest.requester_id).where(school)
    assert _counted_from(both) == "coverage_request"
    # The filter names the event: the join stays (and the requester's, after it, goes).
    upcoming = both.where(Event.deleted_at.is_(None))
    assert (
        _counted_from(upcoming)
        == "coverage_request JOIN event ON event.id = coverage_request.event_id"
    )
    # A foreign key that may be null: an inner join drops the rows without one.
    decided = base().join(User, User.id == CoverageRequest.decided_by_id).where(school)
    assert "JOIN user_account" in _counted_from(decided)
    # ... an outer join does not.
    maybe = base().outerjoin(User, User.id == CoverageRequest.decided_by_id).where(school)
    assert _counted_from(maybe) == "coverage_request"
    # Not the joined table's whole primary key: one row may meet several.
    members = select(User.id).join(SchoolMembership, SchoolMembership.user_id == User.id)
    assert "JOIN school_membership" in _counted_from(members)
    # An outer join whose ON sets the joined table's whole composite key (a caller's review
    # of each resource) meets at most one row: counted without it ...
    mine = (ResourceReview.resource_id == Resource.id) & (ResourceReview.user_id == bindparam("me"))
    assert _counted_from(select(Resource.id).outerjoin(ResourceReview, mine)) == "resource"
    # ... but not when the ON sets only part of it, nor as an inner join (which drops rows).
    some = ResourceReview.resource_id == Resource.id
    assert "JOIN resource_review" in _counted_from(
        select(Resource.id).outerjoin(ResourceReview, some)
    )
    assert "JOIN resource_review" in _counted_from(select(Resource.id).join(ResourceReview, mine))
    # An alias is a table of its own: kept when the filter names it, whatever the others do.
    decider = aliased(User)
    named = both.join(decider, decider.id == CoverageRequest.requester_id).where(
        decider.given_name == "A"
    )
    assert _counted_from(named).count("JOIN") == 1


def test_the_installed_sqlalchemy_is_one_compiled_py_was_written_for():
    """compiled.py uses SQLAlchemy internals: an upgrade must be checked, then the range moved
    (and the pin in pyproject.toml with it)."""
    assert is_tested(sqlalchemy.__version__), (sqlalchemy.__version__, TESTED_SQLALCHEMY)
    assert not is_tested("2.0.36")
    assert not is_tested("2.2.0")
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    low, high = TESTED_SQLALCHEMY
    pin = f'"sqlalchemy[asyncio]>={".".join(map(str, low))},<{".".join(map(str, high[:2]))}"'
    assert pin in pyproject


class Member(BaseModel):
    id: uuid.UUID
    given_name: str
    created_at: datetime
    is_active: bool


class Person(BaseModel):
    id: uuid.UUID
    email: str
    school_ids: list[uuid.UUID]
    schools: list[str]
    me: Member
    colleagues: list[Member]


def test_lists_and_objects_inside_a_row_read_the_same_on_both_engines(settings, factory):
    alpha, beta = factory.school("Alpha"), factory.school("Beta")
    a = factory.user(Role.teacher, [alpha, beta], email="a@example.org", given_name="Ann")
    factory.user(Role.teacher, [alpha], email="b@example.org", given_name="Bo", is_active=False)
    factory.user(Role.teacher, [], email="c@example.org", given_name="Cy")
    me = User.__table__.alias("me")
    other = User.__table__.alias("other")
    ids = (
        select(SchoolMembership.school_id)
        .where(SchoolMembership.user_id == User.id)
        .order_by(SchoolMembership.school_id)
    )
    names = (
        select(School.name)
        .join(SchoolMembership, SchoolMembership.school_id == School.id)
        .where(SchoolMembership.user_id == User.id)
        .order_by(School.name.desc())
    )
    colleagues = (
        select(other.c.id, other.c.given_name, other.c.created_at, other.c.is_active)
        .where(other.c.id != User.id)
        .order_by(other.c.email.desc())
    )
    myself = (
        select(json_object(id=me.c.id, given_name=me.c.given_name, created_at=me.c.created_at,
                           is_active=me.c.is_active))
        .where(me.c.id == User.id)
        .scalar_subquery()
    )  # fmt: skip
    stmt = select(
        User.id,
        User.email,
        collected(ids).label("school_ids"),
        collected(names).label("schools"),
        myself.label("me"),
        nested(colleagues).label("colleagues"),
    ).order_by(User.email)

    people = _run(settings, lambda reads, db: reads.all(Person, stmt))
    assert [p.email for p in people] == ["a@example.org", "b@example.org", "c@example.org"]
    ann, bo, cy = people
    assert bo.schools == ["Alpha"]
    assert ann.school_ids == sorted([alpha.id, beta.id], key=str)
    assert ann.schools == ["Beta", "Alpha"]  # the inner select's order
    assert cy.school_ids == []
    assert cy.schools == []
    assert cy.colleagues[0].given_name == "Bo"
    assert [c.given_name for c in ann.colleagues] == ["Cy", "Bo"]
    assert ann.colleagues[1].is_active is False
    assert ann.colleagues[0].is_active is True
    assert ann.me.id == a.id
    assert ann.me.given_name == "Ann"
    assert ann.me.created_at.utcoffset().total_seconds() == 0
    assert abs((ann.me.created_at - a.created_at).total_seconds()) < 1e-3


def test_one_answer_one_snapshot(settings, factory):
    """Two statements outside a snapshot in one request are refused; inside one they see the
    same moment even when a write commits between them."""
    school = factory.school("Alpha")
    count = select(func.count(User.id)).where(User.email.like("%@example.org"))

    async def work(reads: Reads, db: Database) -> tuple[int, int, int]:
        await reads.value(count)
        with pytest.raises(TwoSnapshots):
            await reads.value(count)
        reads = Reads(db.driver)
        async with reads.snapshot():
            before = await reads.value(count)
            async with db.session() as s:  # another request's write commits
                s.add(User(email="n@example.org", given_name="N", family_name="W", role="teacher"))
            during = await reads.value(count)
        after = await Reads(db.driver).value(count)
        return before, during, after

    assert _run(settings, work) == (0, 0, 1)
    assert school is not None


def test_a_read_at_one_moment_is_one_statement_or_one_snapshot(settings, factory, monkeypatch):
    """`Reads.at_one_moment`: a read whose first statement is all it needs runs with no
    transaction; one that needs a second starts over in a snapshot, and answers from it alone
    (a write committed between its try and its snapshot shows in both of its statements)."""
    from app.core.drivers import Driver
    from app.core.kept import KeptDocuments

    factory.school("Alpha")
    count = select(func.count(User.id)).where(User.email.like("%@example.org"))
    opened: list[int] = []
    original = type(Database(settings).driver).snapshot

    def counted_snapshot(self: Driver) -> Any:
        opened.append(1)
        return original(self)

    async def work(reads: Reads, db: Database) -> tuple[Any, ...]:
        monkeypatch.setattr(type(db.driver), "snapshot", counted_snapshot)
        kept = KeptDocuments(10)
        tries: list[int] = []

        async def one_statement(r: Reads) -> int:
            return int(await r.value(count))

        async def two_statements(r: Reads) -> tuple[int, int]:
            first = int(await r.value(count))
            tries.append(first)
            if len(tries) == 1:  # another request's write commits between try and snapshot
                async with db.session() as s:
                    email = f"n{len(opened)}@example.org"
                    s.add(User(email=email, given_name="N", family_name="W", role="teacher"))
            return first, int(await r.value(count))

        async def at_one_moment(r: Reads, read: Any) -> Any:
            return await r.at_one_moment(functools.partial(read, r))

        alone = await at_one_moment(Reads(db.driver, kept=kept), one_statement)
        alone_opened = len(opened)
        both = await at_one_moment(Reads(db.driver, kept=kept), two_statements)
        # Nothing kept (KEPT_DOCUMENTS=0): always a snapshot, nothing read twice.
        await at_one_moment(Reads(db.driver, kept=KeptDocuments(0)), one_statement)
        # After a statement of its own, a request's read at one moment is a snapshot.
        after = Reads(db.driver, kept=kept)
        await after.value(count)
        tries.clear()
        snap = await at_one_moment(after, two_statements)
        return alone, alone_opened, both, len(opened), snap, tries

    alone, alone_opened, both, opened_count, snap, tries = _run(settings, work)
    assert (alone, alone_opened) == (0, 0)
    assert both == (1, 1)  # the try saw 0, and was dropped, not answered
    assert opened_count == 3
    assert snap == (1, 1)  # one pass, in a snapshot: its write unseen
    assert tries == [1]


def test_a_page_is_validated_whole(settings, factory, client, auth, world):
    a = factory.user(Role.teacher, [world.school_a], given_name="Ann")
    b = factory.user(Role.teacher, [world.school_a], given_name="Bo")
    team = form_team(client, auth, a, b)

    class MemberRow(BaseModel):
        user_id: uuid.UUID

    stmt = select(TeamMember.user_id).where(TeamMember.team_id == uuid.UUID(team["id"]))
    stmt = stmt.order_by(TeamMember.user_id)

    async def work(reads: Reads, db: Database) -> Any:
        return await reads.page(MemberRow, stmt, PageParams(limit=1, offset=0))

    page = _run(settings, work)
    assert page.total == 2
    assert len(page.items) == 1
    assert page.next is None  # no request, no link
    assert isinstance(page.items[0], MemberRow)


def test_a_template_is_built_once_and_answers_each_caller_with_their_own_values(
    settings, factory, client, auth, world
):
    """`visible_teams` is one SQL element per kind of caller, naming the caller by bind
    parameters: two teachers share the statement and still see only their own teams."""
    a = factory.user(Role.teacher, [world.school_a], given_name="Ann")
    b = factory.user(Role.teacher, [world.school_a], given_name="Bo")
    c = factory.user(Role.teacher, [world.school_a], given_name="Cy")
    d = factory.user(Role.teacher, [world.school_a], given_name="Di")
    ab = uuid.UUID(form_team(client, auth, a, b)["id"])
    alone = uuid.UUID(form_team(client, auth, c, d)["id"])
    ann, cy = principal_of(a), principal_of(c)
    assert team_policies.visible_teams(ann, True) is team_policies.visible_teams(cy, True)
    first, second = team_service.seen_statement(ann, ab), team_service.seen_statement(cy, ab)
    assert first.stmt is second.stmt

    async def work(reads: Reads, db: Database) -> Any:
        seen = []
        async with reads.snapshot():
            for caller in (ann, cy):
                for team_id in (ab, alone):
                    seen.append(await reads.value(team_service.seen_statement(caller, team_id)))
        return seen

    assert _run(settings, work) == [ab, None, None, alone]


def test_a_caller_filter_run_without_the_callers_values_fails_loudly(settings, factory, world):
    """Forgetting `caller_values` must be an error, never a filter that matches everyone."""
    teacher = principal_of(factory.user(Role.teacher, [world.school_a]))
    stmt = select(Team.id).where(team_policies.visible_teams(teacher, True))

    async def work(reads: Reads, db: Database) -> Any:
        return await reads.all(MemberRow, stmt)

    with pytest.raises(sqlalchemy.exc.InvalidRequestError, match="caller_id"):
        _run(settings, work)


class MemberRow(BaseModel):
    id: uuid.UUID


def test_the_one_team_and_the_set_forms_of_a_reach_agree_team_by_team(
    settings, factory, client, auth, world, sync_engine
):
    """`teams_within(..., one=True)` asks the rule of one row (EXISTS), the list form builds
    the set (IN): for every caller's reach, deleted or not, the teams each admits are the same,
    and so are the events (`events_within`) and the staff records (`users.policies.within`)."""
    from sqlalchemy import update

    from app.auth.principal import caller_values
    from app.events import policies as event_policies
    from app.events.models import Event
    from app.users import policies as user_policies
    from app.users.models import Role as R
    from app.users.models import User

    both = factory.user(R.school_admin, [world.school_a, world.school_b])
    a_team = uuid.UUID(form_team(client, auth, world.teacher_a, world.teacher_a2)["id"])
    two_schools = factory.user(R.teacher, [world.school_a, world.school_b])
    mixed = uuid.UUID(form_team(client, auth, two_schools, world.teacher_b)["id"])
    b_alone = factory.user(R.teacher, [world.school_b])
    b_team = uuid.UUID(form_team(client, auth, world.teacher_b, b_alone)["id"])
    gone = uuid.UUID(form_team(client, auth, world.teacher_a2, world.teacher_a)["id"])
    with sync_engine.begin() as conn:
        when = datetime(2026, 11, 1, tzinfo=UTC)
        conn.execute(update(Team).where(Team.id == gone).values(deleted_at=when))
    callers = [world.admin_a, world.admin_b, both, world.teacher_a, world.district_admin]
    seen_by_someone: set[uuid.UUID] = set()
    known_by_someone: list[int] = []
    planning = []
    for team_id, who in ((a_team, world.teacher_a), (b_team, world.teacher_b)):
        body = {"team_id": str(team_id), "kind": "other", "title": "Planning",
                "starts_at": "2027-01-12T15:00:00Z", "ends_at": "2027-01-12T16:00:00Z"}  # fmt: skip
        r = client.post("/api/v1/events", headers=auth(who), json=body)
        assert r.status_code == 201, r.text
        planning.append(uuid.UUID(r.json()["id"]))

    async def work(reads: Reads, db: Database) -> Any:
        async with db.session() as session:
            teams = list((await session.execute(select(Team.id))).scalars())
            events = list((await session.execute(select(Event.id))).scalars())
            staff = list((await session.execute(select(User.id))).scalars())
        for user in callers:
            p = principal_of(user)
            values = caller_values(p)
            reach = team_policies.team_reach(p)
            for deleted in (True, False):
                async with db.session() as session:
                    within = functools.partial(team_policies.teams_within, reach, deleted)
                    as_set, one_by_one = await _both_forms(session, Team, teams, within, values)
                    assert as_set == one_by_one, (user.email, deleted)
                    seen_by_someone.update(as_set)
                    within = functools.partial(event_policies.events_within, reach, deleted)
                    as_set, one_by_one = await _both_forms(session, Event, events, within, values)
                    assert as_set == one_by_one, (user.email, deleted)
                    seen_by_someone.update(as_set)
            async with db.session() as session:
                within = functools.partial(user_policies.within, user_policies.record_reach(p))
                as_set, one_by_one = await _both_forms(session, User, staff, within, values)
                assert as_set == one_by_one, user.email
                known_by_someone.append(len(as_set))
        return None

    _run(settings, work)
    assert {a_team, mixed, b_team, gone, *planning} <= seen_by_someone
    # a school's administrator knows some but not all; a teacher themselves; the district all
    assert 1 in known_by_someone
    assert len(set(known_by_someone)) >= 3


async def _both_forms(session, table, ids, within, values) -> tuple[set, set]:
    """The ids `within(one=False)` admits as a set, and those `within(one=True)` admits when
    asked of each row in `ids`."""
    found = await session.execute(select(table.id).where(within(one=False)), values)
    one_by_one = set()
    for i in ids:
        asked = select(table.id).where(table.id == i, within(one=True))
        if (await session.execute(asked, values)).first():
            one_by_one.add(i)
    return set(found.scalars()), one_by_one
