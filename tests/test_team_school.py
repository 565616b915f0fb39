"""`team_school` (migration 0046): the schools of each team's members, kept by the database's
own triggers. It must always equal what it copies, whatever changes and in whatever order, or
an administrator would see a team of another school or miss one of their own."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import Engine, delete, select, update
from sqlmodel import Session, col

from app.teams.models import Team, TeamMember, TeamSchool
from app.users.models import SchoolMembership


def _kept(engine: Engine) -> set[tuple[uuid.UUID, uuid.UUID]]:
    with Session(engine) as s:
        rows = s.execute(select(col(TeamSchool.team_id), col(TeamSchool.school_id))).all()
    return {(team, school) for team, school in rows}


def _derived(engine: Engine) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """What team_school copies: a team is at every school one of its members belongs to."""
    with Session(engine) as s:
        rows = s.execute(
            select(col(TeamMember.team_id), col(SchoolMembership.school_id)).join(
                SchoolMembership, col(SchoolMembership.user_id) == TeamMember.user_id
            )
        ).all()
    return {(team, school) for team, school in rows}


def _team(engine: Engine, *members: uuid.UUID) -> uuid.UUID:
    with Session(engine) as s:
        team = Team(name=f"Team {uuid.uuid4().hex[:6]}", school_year="2026-2027")
        s.add(team)
        s.flush()
        for member in members:
            s.add(TeamMember(team_id=team.id, user_id=member))
        s.commit()
        return team.id


def _run(engine: Engine, *statements) -> None:
    with Session(engine) as s:
        for statement in statements:
            s.execute(statement)
        s.commit()


def test_a_teams_schools_follow_every_change_of_members_and_memberships(factory, sync_engine):
    a, b, c = factory.school(), factory.school(), factory.school()
    u1 = factory.user(schools=[a]).id
    u2 = factory.user(schools=[a, b]).id
    u3 = factory.user(schools=[c]).id
    x = _team(sync_engine, u1)
    y = _team(sync_engine, u2, u3)
    assert (
        _kept(sync_engine) == _derived(sync_engine) == {(x, a.id), (y, a.id), (y, b.id), (y, c.id)}
    )

    def member(team: uuid.UUID, user: uuid.UUID):
        return col(TeamMember.team_id) == team, col(TeamMember.user_id) == user

    def membership(user: uuid.UUID, school: uuid.UUID):
        return col(SchoolMembership.user_id) == user, col(SchoolMembership.school_id) == school

    steps = [
        # a second member at a school the team is already at, then the first one leaves: the
        # team stays at that school
        [TeamMember.__table__.insert().values(team_id=x, user_id=u2)],
        [delete(TeamMember).where(*member(x, u1))],
        # a member joins a school, then leaves another
        [SchoolMembership.__table__.insert().values(user_id=u3, school_id=a.id)],
        [delete(SchoolMembership).where(*membership(u2, a.id))],
        # a membership moves to another school; a member moves to another team
        [update(SchoolMembership).where(*membership(u2, b.id)).values(school_id=c.id)],
        [update(TeamMember).where(*member(y, u3)).values(team_id=x)],
        # the last member at a school goes: the team is no longer there
        [delete(TeamMember).where(*member(x, u2))],
        [delete(SchoolMembership).where(*membership(u3, c.id))],
    ]
    seen = []
    for step in steps:
        _run(sync_engine, *step)
        assert _kept(sync_engine) == _derived(sync_engine), step
        seen.append(_kept(sync_engine))
    assert seen[1] == {(x, a.id), (x, b.id), (y, a.id), (y, b.id), (y, c.id)}  # u2 keeps x at a
    assert (x, a.id) not in seen[3] and (y, a.id) in seen[3]  # u3 (now at a) keeps y there
    assert seen[-1] == {(x, a.id), (y, c.id)}


def test_a_deleted_school_or_team_takes_its_rows_along(factory, sync_engine):
    a = factory.school()
    teacher = factory.user(schools=[a]).id
    x = _team(sync_engine, teacher)
    assert _kept(sync_engine) == {(x, a.id)}
    _run(sync_engine, delete(TeamMember), delete(SchoolMembership), delete(Team))
    assert _kept(sync_engine) == set()


def test_a_member_joining_while_another_leaves_keeps_the_team_at_their_school(factory, sync_engine):
    """PostgreSQL's writers interleave: one member's removal must not take the team from a
    school that another member, joining in a transaction not yet committed, keeps it at."""
    if sync_engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take the database in turn")
    a = factory.school()
    leaving = factory.user(schools=[a]).id
    joining = factory.user(schools=[a]).id
    x = _team(sync_engine, leaving)

    joined = Session(sync_engine)
    joined.execute(TeamMember.__table__.insert().values(team_id=x, user_id=joining))
    # The join found the team already at the school; now the other member leaves, in a
    # transaction of its own that must wait for the join to commit before deciding.
    left = threading.Event()
    failures: list[BaseException] = []

    def leave() -> None:
        try:
            _run(sync_engine, delete(TeamMember).where(col(TeamMember.user_id) == leaving))
        except BaseException as exc:  # reported by the test below
            failures.append(exc)
        finally:
            left.set()

    thread = threading.Thread(target=leave)
    thread.start()
    assert not left.wait(0.5), "the removal decided before the join committed"
    joined.commit()
    joined.close()
    thread.join(10)
    assert not failures
    assert _kept(sync_engine) == _derived(sync_engine) == {(x, a.id)}
