"""Writing a planned roster import: a few batched statements per kind of change, whatever the
roster's size, and the per-person outcomes of the import's log."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, insert, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import new_id, table_of, utcnow
from app.rosters.models import RosterImportRow
from app.rosters.planning import CHUNK, Plan
from app.schools.models import School
from app.users.models import SchoolMembership, User


async def apply(session: AsyncSession, plan: Plan, time_zone: str) -> None:
    now = utcnow()
    new_schools = [
        {
            "id": s.id,
            "name": s.name,
            "sourced_id": s.sourced_id,
            "time_zone": time_zone,
            "created_at": now,
            "updated_at": now,
        }
        for s in plan.schools
        if s.existing is None
    ]
    for i in range(0, len(new_schools), CHUNK):
        await session.execute(insert(table_of(School)), new_schools[i : i + CHUNK])
    renamed = [
        {"id": s.id, "updated_at": now, **{name: getattr(s, name) for name in s.changed}}
        for s in plan.schools
        if s.existing is not None and s.changed
    ]
    await _update_grouped(session, School, renamed)

    new_users: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    add: list[dict[str, Any]] = []
    drop: list[tuple[uuid.UUID, uuid.UUID]] = []
    for p in plan.people:
        if p.existing is None:
            user_id = new_id()
            new_users.append(
                {
                    "id": user_id,
                    "email": p.email,
                    "given_name": p.given_name,
                    "family_name": p.family_name,
                    "role": p.role,
                    "sourced_id": p.sourced_id,
                    "is_active": p.is_active is not False,
                    "token_version": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            add += [{"user_id": user_id, "school_id": s} for s in p.school_ids or ()]
            continue
        if not p.changed:
            continue
        user = p.existing
        values: dict[str, Any] = {"id": user["id"], "updated_at": now}
        for name in p.changed:
            if name != "school_ids":
                values[name] = getattr(p, name)
        if "email" in p.changed:
            values["email_confirmed"] = False  # no password link until the person sets one
        if "sourced_id" in p.changed:
            values["roster_id_confirmed"] = False  # nor single sign-on by the new roster id
        if "is_active" in p.changed and not p.is_active:
            values["token_version"] = user["token_version"] + 1  # tokens stop working at once
        updates.append(values)
        if "school_ids" in p.changed and p.school_ids is not None:
            add += [
                {"user_id": user["id"], "school_id": s} for s in p.school_ids - user["school_ids"]
            ]
            drop += [(user["id"], s) for s in user["school_ids"] - p.school_ids]
    updates += [
        {
            "id": u["id"],
            "is_active": False,
            "token_version": u["token_version"] + 1,
            "updated_at": now,
        }
        for u in plan.deactivate
    ]
    # Batched: a few statements per kind of change, whatever the roster's size.
    for i in range(0, len(new_users), CHUNK):
        await session.execute(insert(table_of(User)), new_users[i : i + CHUNK])
    await _update_grouped(session, User, updates)
    for i in range(0, len(drop), CHUNK):
        await session.execute(
            delete(SchoolMembership).where(
                tuple_(SchoolMembership.user_id, SchoolMembership.school_id).in_(
                    drop[i : i + CHUNK]
                )
            )
        )
    for i in range(0, len(add), CHUNK):
        await session.execute(insert(table_of(SchoolMembership)), add[i : i + CHUNK])


async def _update_grouped(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Bulk UPDATE by primary key; rows that set the same columns go in one executemany."""
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for values in rows:
        groups.setdefault(frozenset(values), []).append(values)
    for group in groups.values():
        for i in range(0, len(group), CHUNK):
            await session.execute(update(model), group[i : i + CHUNK])


async def store_outcomes(
    session: AsyncSession, import_id: uuid.UUID, outcomes: list[dict[str, Any]]
) -> None:
    rows = [{"import_id": import_id, "position": i, **o} for i, o in enumerate(outcomes)]
    for i in range(0, len(rows), CHUNK):
        await session.execute(insert(table_of(RosterImportRow)), rows[i : i + CHUNK])
