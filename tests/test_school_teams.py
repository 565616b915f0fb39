"""`school_team` (migration 0046): each team with a member at a school, kept by the database's
triggers on `team_member` and `school_membership`. Administrators' reach, a school's teams and a
team's schools are read from it, so it must equal what the two tables say after any change, on
both engines and under concurrent transactions."""

from __future__ import annotations

import random
import threading
import uuid

import pytest
from sqlalchemy import Engine, delete, func, insert, select, update
from sqlmodel import col

from app.teams.models import SchoolTeam, Team, TeamMember
from app.users.models import Role, SchoolMembership
from tests.conftest import ENGINE
from tests.teams import form_team


def derived(conn) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """(school, team) -> members at the school, from the tables themselves."""
    rows = conn.execute(
        select(SchoolMembership.school_id, TeamMember.team_id, func.count())
        .join(SchoolMembership, col(SchoolMembership.user_id) == TeamMember.user_id)
        .group_by(col(SchoolMembership.school_id), col(TeamMember.team_id))
    )
    return {(school, team): n for school, team, n in rows}


def kept(conn) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    rows = conn.execute(select(SchoolTeam.school_id, SchoolTeam.team_id, SchoolTeam.members))
    return {(school, team): n for school, team, n in rows}


def test_the_kept_rows_equal_the_memberships_after_every_kind_of_change(sync_engine, factory):
    """Members join and leave teams, people gain, lose and change schools (an UPDATE of either
    column), in 400 random steps: after each, `school_team` is exactly the grouping of the two
    tables, with no row left at zero."""
    schools = [factory.school() for _ in range(4)]
    people = [factory.user(Role.teacher, [schools[i % 4]]) for i in range(6)]
    teams = [Team(name=f"Team {i}", school_year="2026-2027") for i in range(4)]
    with sync_engine.begin() as conn:
        conn.execute(insert(Team), [t.model_dump() for t in teams])
    rng = random.Random(46)
    largest, happened = 0, set()
    kinds = ["join", "leave", "school+", "school-", "move school", "swap member"]
    with sync_engine.connect() as conn:
        for step in range(400):
            person, team, school = rng.choice(people), rng.choice(teams), rng.choice(schools)
            kind = rng.choices(kinds, weights=[3, 1, 3, 1, 1, 1])[0]  # (fills, not drains)
            on_team = conn.execute(
                select(TeamMember.team_id, TeamMember.user_id).where(
                    col(TeamMember.user_id).in_([p.id for p in people])
                )
            ).all()
            places = conn.execute(
                select(SchoolMembership.user_id, SchoolMembership.school_id).where(
                    col(SchoolMembership.user_id).in_([p.id for p in people])
                )
            ).all()

            def write(stmt, kind=kind) -> None:
                conn.execute(stmt)
                happened.add(kind)

            if kind == "join" and (team.id, person.id) not in on_team:
                write(insert(TeamMember).values(team_id=team.id, user_id=person.id))
            elif kind == "leave" and on_team:
                t, u = rng.choice(on_team)
                write(
                    delete(TeamMember).where(
                        col(TeamMember.team_id) == t, col(TeamMember.user_id) == u
                    )
                )
            elif kind == "school+" and (person.id, school.id) not in places:
                write(insert(SchoolMembership).values(user_id=person.id, school_id=school.id))
            elif kind == "school-" and places:
                u, s = rng.choice(places)
                write(
                    delete(SchoolMembership).where(
                        col(SchoolMembership.user_id) == u, col(SchoolMembership.school_id) == s
                    )
                )
            elif kind == "move school" and places:
                u, s = rng.choice(places)
                if (u, school.id) not in places:
                    write(
                        update(SchoolMembership)
                        .where(
                            col(SchoolMembership.user_id) == u,
                            col(SchoolMembership.school_id) == s,
                        )
                        .values(school_id=school.id)
                    )
            elif kind == "swap member" and on_team:
                t, u = rng.choice(on_team)
                if (t, person.id) not in on_team:
                    write(
                        update(TeamMember)
                        .where(col(TeamMember.team_id) == t, col(TeamMember.user_id) == u)
                        .values(user_id=person.id)
                    )
            conn.commit()
            now = kept(conn)
            largest = max(largest, len(now))
            assert now == derived(conn), (step, kind)
            assert all(n > 0 for n in now.values())
    assert happened == set(kinds)
    assert largest >= 6  # the walk went through well-filled states


def test_an_administrator_follows_a_member_moving_between_schools(client, world, auth):
    """A team of two school A teachers: A's administrator sees it, B's does not; once one of
    them moves to B both do; once the other moves too, only B's. Lists and single reads agree."""
    team = form_team(client, auth, world.teacher_a, world.teacher_a2)["id"]
    district = auth(world.district_admin)

    def seen_by(admin) -> tuple[bool, bool]:
        h = auth(admin)
        listed = client.get("/api/v1/teams?limit=200", headers=h).json()["items"]
        single = client.get(f"/api/v1/teams/{team}", headers=h).status_code
        assert single in (200, 404)
        assert (team in {t["id"] for t in listed}) == (single == 200)
        return team in {t["id"] for t in listed}, single == 200

    def move(teacher) -> None:
        r = client.patch(
            f"/api/v1/users/{teacher.id}",
            headers={**district, "If-Match": "*"},
            json={"school_ids": [str(world.school_b.id)]},
        )
        assert r.status_code == 200, r.text

    assert seen_by(world.admin_a) == (True, True)
    assert seen_by(world.admin_b) == (False, False)
    move(world.teacher_a)
    assert seen_by(world.admin_a) == (True, True)
    assert seen_by(world.admin_b) == (True, True)
    at_b = client.get(f"/api/v1/teams?school_id={world.school_b.id}", headers=district).json()[
        "items"
    ]
    assert team in {t["id"] for t in at_b}
    move(world.teacher_a2)
    assert seen_by(world.admin_a) == (False, False)
    assert seen_by(world.admin_b) == (True, True)
    at_a = client.get(f"/api/v1/teams?school_id={world.school_a.id}", headers=district).json()[
        "items"
    ]
    assert team not in {t["id"] for t in at_a}


@pytest.mark.skipif(ENGINE != "postgres", reason="SQLite has one writer at a time")
@pytest.mark.parametrize("first", ["team", "school"])
def test_a_new_member_and_a_new_school_at_once_both_count(sync_engine: Engine, factory, first):
    """Two transactions at once: one puts a person on a team, the other gives them a school.
    Each trigger reads the other table, which holds the other's uncommitted row; the second
    waits for the first (both lock the person's account row), so the pair is counted either
    way round."""
    school = factory.school()
    person = factory.user(Role.teacher, [])
    team = Team(name="Concurrent", school_year="2026-2027")
    with sync_engine.begin() as conn:
        conn.execute(insert(Team).values(**team.model_dump()))
    add_member = insert(TeamMember).values(team_id=team.id, user_id=person.id)
    add_school = insert(SchoolMembership).values(user_id=person.id, school_id=school.id)
    one, other = (add_member, add_school) if first == "team" else (add_school, add_member)
    started, done = threading.Event(), threading.Event()

    def second() -> None:
        with sync_engine.begin() as conn:
            started.set()
            conn.execute(other)
        done.set()

    with sync_engine.begin() as conn:
        conn.execute(one)
        worker = threading.Thread(target=second)
        worker.start()
        assert started.wait(5)
        assert not done.wait(0.5)  # it waits for this transaction
    worker.join(10)
    assert done.is_set()
    with sync_engine.connect() as conn:
        assert kept(conn).get((school.id, team.id)) == 1
        assert kept(conn) == derived(conn)
