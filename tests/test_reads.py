"""The hot read path (app/core/reads.py) returns what an AsyncSession returns, on both engines."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    bindparam,
    cast,
    column,
    literal,
    literal_column,
    select,
    table,
    tuple_,
    type_coerce,
)
from sqlalchemy import exc as sa_exc

from app.core.db import Database
from app.schools.models import School
from app.schools.schemas import SchoolPublic
from app.users.models import Role, SchoolMembership, User
from tests.conftest import ENGINE
from tests.dbsetup import on_database


def _users_stmt():
    return (
        select(
            User.id,
            User.email,
            User.role,
            User.is_active,
            User.created_at,
            SchoolMembership.school_id,
        )
        .join(SchoolMembership, SchoolMembership.user_id == User.id)
        .order_by(User.email)
    )


def test_typed_rows_equal_the_sessions(settings, factory):
    school = factory.school("Alpha")
    factory.user(Role.teacher, [school], email="a@example.org")
    factory.user(Role.school_admin, [school], email="b@example.org", is_active=False)

    async def work(db: Database) -> tuple[list[dict], list[dict]]:
        async with db.session() as s:
            expected = [dict(m) for m in (await s.execute(_users_stmt())).mappings()]
        return expected, await db.driver.rows(_users_stmt())

    expected, got = on_database(settings, work)
    assert len(got) == 2
    assert got == expected
    for row in got:
        assert row["created_at"].utcoffset().total_seconds() == 0
        assert type(row["is_active"]) is bool
        assert type(row["id"]) is type(expected[0]["id"])


def test_raw_rows_validate_to_the_same_api_output(settings, factory):
    factory.school("Alpha", time_zone="America/Chicago")
    stmt = select(*School.__table__.columns)

    async def work(db: Database) -> tuple[list[dict], list[dict]]:
        return await db.driver.rows(stmt), await db.driver.rows(stmt, raw=True)

    typed, raw = on_database(settings, work)
    as_api = [SchoolPublic.model_validate(r).model_dump_json() for r in typed]
    assert [SchoolPublic.model_validate(r).model_dump_json() for r in raw] == as_api
    assert as_api[0].count("Z") >= 2  # created_at and updated_at in UTC


def test_one_compiled_shape_serves_every_parameter_value(settings, factory):
    school = factory.school("Alpha")
    a = factory.user(Role.teacher, [school], email="a@example.org")
    b = factory.user(Role.teacher, [school], email="b@example.org")
    c = factory.user(Role.teacher, [school], email="c@example.org")

    def by_ids(ids):
        return select(User.email).where(User.id.in_(ids)).order_by(User.email)

    def by_id(user_id):
        return select(User.email).where(User.id == user_id)

    async def work(db: Database) -> list[list[str]]:
        out = []
        for stmt in (by_ids([a.id, c.id]), by_ids([b.id]), by_id(c.id), by_id(a.id)):
            out.append([r["email"] for r in await db.driver.rows(stmt)])
        out.append([str(len(db.driver.statements._shapes))])
        return out

    assert on_database(settings, work) == [
        ["a@example.org", "c@example.org"],
        ["b@example.org"],
        ["c@example.org"],
        ["a@example.org"],
        ["2"],  # one shape for the IN list whatever its length, one for the equality
    ]


def test_reads_see_each_commit_at_once(settings, factory):
    school = factory.school("Alpha")
    stmt = select(User.email).order_by(User.email)

    async def work(db: Database) -> tuple[list[dict], list[dict]]:
        before = await db.driver.rows(stmt)
        async with db.session() as s:
            s.add(User(email="new@example.org", given_name="N", family_name="W", role=Role.teacher))
        after = await db.driver.rows(stmt)
        return before, after

    before, after = on_database(settings, work)
    assert before == []
    assert after == [{"email": "new@example.org"}]
    assert school is not None


def test_json_columns_are_parsed_on_both_engines(settings):
    # As a JSON column reads: the json type on PostgreSQL, text on SQLite (whose CAST to an
    # unknown type name would make a number of it).
    text = '["a", 1]'
    if ENGINE == "postgres":
        j = cast(literal(text), JSON)
    else:
        j = type_coerce(literal_column(f"'{text}'"), JSON)
    stmt = select(j.label("j"))

    async def work(db: Database) -> tuple[list[dict], list[dict]]:
        return await db.driver.rows(stmt), await db.driver.rows(stmt, raw=True)

    assert on_database(settings, work) == ([{"j": ["a", 1]}], [{"j": ["a", 1]}])


def test_driver_errors_are_sqlalchemy_errors(settings):
    missing = select(column("x")).select_from(table("no_such_table"))

    async def work(db: Database) -> None:
        with pytest.raises(sa_exc.DBAPIError) as caught:
            await db.driver.rows(missing)
        assert "no_such_table" in str(caught.value)
        # The reader is still usable afterwards.
        assert (await db.driver.rows(select(literal(1).label("one")))) == [{"one": 1}]

    on_database(settings, work)


def test_fixed_statements_compile_once_and_bind_every_call(settings, factory):
    alpha, beta = factory.school("Alpha"), factory.school("Beta")
    a = factory.user(Role.teacher, [alpha], email="a@example.org")
    factory.user(Role.teacher, [beta], email="b@example.org")
    factory.user(Role.school_admin, [alpha, beta], email="c@example.org")
    in_schools = (
        select(User.email)
        .where(
            User.id.in_(
                select(SchoolMembership.user_id).where(
                    SchoolMembership.school_id.in_(bindparam("schools", expanding=True))
                )
            ),
            User.role == bindparam("role"),
        )
        .order_by(User.email)
    )
    by_id = select(User.email, User.created_at).where(User.id == bindparam("user_id"))

    async def work(db: Database) -> list[Any]:
        out = []
        for schools, role in (([alpha.id], Role.teacher), ([alpha.id, beta.id], Role.teacher)):
            args = {"schools": schools, "role": role}
            fixed = await db.driver.rows(in_schools, args, fixed=True)
            assert fixed == await db.driver.rows(in_schools, args)  # the same as compiled by key
            out.append([r["email"] for r in fixed])
        out.append(
            await db.driver.rows(in_schools, {"schools": [], "role": Role.teacher}, fixed=True)
        )
        typed = await db.driver.rows(by_id, {"user_id": a.id}, fixed=True)
        async with db.session() as s:
            assert typed == [
                dict(m) for m in (await s.execute(by_id, {"user_id": a.id})).mappings()
            ]
        shapes = db.driver.statements._shapes
        out.append(sum(1 for shape in shapes.values() if shape.source is not None))
        return out

    assert on_database(settings, work) == [
        ["a@example.org"],
        ["a@example.org", "b@example.org"],
        [],
        2,  # one compiled shape per fixed statement, whatever the values
    ]


def test_rows_keep_any_column_label(settings):
    stmt = select(
        literal(1).label("it's"), literal("x").label('say "hi"'), literal(2).label("r[0]")
    )

    async def work(db: Database) -> list[dict]:
        return await db.driver.rows(stmt, raw=True)

    assert on_database(settings, work) == [{"it's": 1, 'say "hi"': "x", "r[0]": 2}]


def _sqlalchemys(shape, params):
    """What SQLAlchemy's execution would send: its own write-out of the IN lists."""
    values = shape.compiled.construct_params(params)
    state = shape.compiled.construct_expanded_state(values)
    processors = {**shape.processors, **(state.processors or {})}
    bound = {k: processors[k](v) if k in processors else v for k, v in state.parameters.items()}
    if state.positiontup is not None:
        return state.statement, tuple(bound[k] for k in state.positiontup)
    return state.statement, bound


@pytest.mark.parametrize("dialect_name", ["sqlite", "postgresql"])
def test_in_lists_are_bound_as_sqlalchemy_would_bind_them(dialect_name):
    """Expanding IN parameters are written out once per count of values (compiled.Expansion)
    and bound from there: the same SQL and values as SQLAlchemy's own write-out, for a
    parameter used twice, empty lists, typed values, and past the counts it remembers."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from sqlalchemy.dialects import postgresql, sqlite

    from app.core import compiled
    from app.core.compiled import StatementCache
    from app.events.models import Event, EventParticipant

    dialect = sqlite.dialect() if dialect_name == "sqlite" else postgresql.psycopg.dialect()
    cache = StatementCache(dialect)
    booked = select(EventParticipant.user_id).where(
        EventParticipant.event_id == Event.id,
        EventParticipant.user_id.in_(bindparam("people", expanding=True)),
    )
    stmt = (
        select(Event.id, booked.limit(1).scalar_subquery().label("who"))
        .where(
            Event.starts_at > bindparam("after"),
            Event.kind.in_(bindparam("kinds", expanding=True)),
            booked.exists(),
        )
        .limit(5)
    )
    now = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    for count in [0, 1, 3, 1, *range(2, compiled.EXPANSIONS + 4)]:
        params = {
            "people": [uuid.uuid4() for _ in range(count)],
            "kinds": ["observation", "other"][: count % 3],
            "after": now + timedelta(hours=count),
        }
        shape, sql, args = cache.prepare(stmt, params, fixed=True)
        assert (sql, args) == _sqlalchemys(shape, params), count
    assert len(shape.expansions) == compiled.EXPANSIONS  # the rest went SQLAlchemy's way
    # A list given as any iterable, and IN compared with tuples, are bound as SQLAlchemy would.
    params = {"people": {uuid.uuid4()}, "kinds": ("other",), "after": now}
    shape, sql, args = cache.prepare(stmt, params, fixed=True)
    assert (sql, args) == _sqlalchemys(shape, {**params, "people": list(params["people"])})
    # An IN list given as values (an anonymous parameter), in a statement built per call.
    for statuses in (["held"], ["held", "cancelled"], ["scheduled"]):
        per_call = select(Event.id).where(
            Event.status.in_(statuses), Event.team_id.in_([uuid.uuid4()])
        )
        shape, sql, args = cache.prepare(per_call)
        key = per_call._generate_cache_key()
        assert key is not None
        values = shape.compiled.construct_params(extracted_parameters=key.bindparams)
        assert (sql, args) == _sqlalchemys(shape, values)
    pairs = select(EventParticipant.user_id).where(
        tuple_(EventParticipant.event_id, EventParticipant.user_id).in_(
            bindparam("pairs", expanding=True)
        )
    )
    params = {"pairs": [(uuid.uuid4(), uuid.uuid4()), (uuid.uuid4(), uuid.uuid4())]}
    shape, sql, args = cache.prepare(pairs, params, fixed=True)
    assert (sql, args) == _sqlalchemys(shape, params)
