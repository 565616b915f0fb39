"""The confidentiality rule has two forms: a SQL one for reads (`confidential_columns`, decided
in the snapshot that reads the records) and a Python one for changes (`can_read_confidential`
and `confidential_since` over a loaded team). They must never disagree, for anyone."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import bindparam, select, update

from app.auth.principal import Principal, Staff, caller_values
from app.core.db import Database
from app.core.reads import Reads
from app.records import policies as record_policies
from app.records import service as records
from app.teams import policies, service
from app.teams.models import Team, TeamMember
from app.users.models import Role, User
from tests.teams import form_team


class Standing(BaseModel):
    reads_confidential: bool
    confidential_since: datetime | None


def principal_of(user: User, role: Role | None = None) -> Principal:
    return Principal(
        user=Staff(
            id=user.id,
            email=user.email,
            given_name=user.given_name,
            family_name=user.family_name,
            role=role or user.role,
            sourced_id=None,
            is_active=True,
            token_version=0,
            invited_at=None,
            activated_at=None,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )
    )


def both_forms(settings, principal: Principal, team_id: uuid.UUID) -> tuple[tuple, tuple]:
    async def work() -> tuple[tuple, tuple]:
        db = Database(settings)
        try:
            async with db.session() as session:
                access = await service.get_viewable(session, Principal(system=True), team_id)
                assert access is not None
                python = policies.can_read_confidential(principal, access)
                since = policies.confidential_since(principal, access) if python else None
            stmt = select(*policies.confidential_columns(principal, Team)).where(Team.id == team_id)
            sql = await Reads(db.driver).one(Standing, stmt, caller_values(principal))
            assert sql is not None
            # The check a list of the team's records is read within, the same rule as a filter.
            check = records.team_records_check(principal, team_id)
            assert (await Reads(db.driver).value(check) is not None) == python
            # `since` only means something to those who read the records at all.
            return (python, since), (
                sql.reads_confidential,
                sql.confidential_since if sql.reads_confidential else None,
            )
        finally:
            await db.dispose()

    return asyncio.run(work())


def test_sql_and_python_forms_agree_for_every_kind_of_caller(
    client, world, factory, auth, settings, sync_engine
):
    late = factory.user(Role.teacher, [world.school_a])
    team = form_team(client, auth, world.teacher_a, world.teacher_a2)
    team_id = uuid.UUID(team["id"])
    # A later member, who reads only what is written from their joining on.
    r = client.post(
        f"/api/v1/teams/{team_id}/invitations",
        headers=auth(world.teacher_a),
        json={"user_id": str(late.id)},
    )
    assert r.status_code == 201, r.text
    invitation = r.json()["id"]
    r = client.post(f"/api/v1/team-invitations/{invitation}/accept", headers=auth(late))
    assert r.status_code == 200, r.text

    callers = {
        "founder": principal_of(world.teacher_a),
        "later member": principal_of(late),
        "member now an administrator": principal_of(world.teacher_a2, Role.school_admin),
        "teacher not on it": principal_of(world.teacher_b),
        "school admin": principal_of(world.admin_a),
        "district admin": principal_of(world.district_admin),
    }
    seen = {}
    for deleted in (False, True):
        if deleted:
            with sync_engine.begin() as conn:
                conn.execute(
                    update(Team).where(Team.id == team_id).values(deleted_at=datetime.now(UTC))
                )
        for name, principal in callers.items():
            python, sql = both_forms(settings, principal, team_id)
            assert python == sql, (name, deleted)
            seen[name, deleted] = python[0]
    assert seen["founder", False] is True
    assert seen["later member", False] is True
    assert seen["member now an administrator", False] is False
    assert not any(seen[name, True] for name in callers)  # a deleted team's records: no one
    with sync_engine.connect() as conn:
        since = conn.execute(
            select(TeamMember.sees_since).where(
                TeamMember.team_id == team_id, TeamMember.user_id == late.id
            )
        ).scalar_one()
    assert since is not None
    # Which records each member reads: the lists ask it in SQL of each record's time, the
    # single reads in Python of the standing; the same answer around the later member's start.
    for who, member_since in ((world.teacher_a, None), (late, since)):
        principal = principal_of(who)
        for written in (since - timedelta(seconds=1), since, since + timedelta(seconds=1)):
            python = record_policies.written_since(member_since, written)
            assert in_reach_sql(settings, principal, team_id, written) == python, (who, written)
    assert not in_reach_sql(settings, principal_of(late), team_id, since - timedelta(seconds=1))


def in_reach_sql(settings, principal: Principal, team_id: uuid.UUID, written: datetime) -> bool:
    async def work() -> bool:
        db = Database(settings)
        try:
            stmt = select(policies.written_in_reach(bindparam("written", written), Team.id)).where(
                Team.id == team_id
            )
            return bool(await Reads(db.driver).value(stmt, caller_values(principal)))
        finally:
            await db.dispose()

    return asyncio.run(work())
