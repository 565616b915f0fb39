"""Appending to the audit trail, and reading it (who may: audit/policies.py).

Two ways in, one kind of row:
- `record`: in the transaction of the change it is about (a role change, a key, a plan
  decision): the event exists exactly when the change does, for the price of one insert in a
  transaction that writes anyway;
- `entry` + the journal (app/core/journal.py): for what is not a change of ours (a sign-in, a
  failed one, a read of a confidential record), gathered and written in batches in a write
  transaction of the journal's own, so the request does not wait for it.

An event names people, records and facts about the action (`detail`: a role's old and new value,
a sign-in's method, a failed sign-in's reason); never what a record says.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from app.audit.models import AuditAction, AuditEvent
from app.audit.schemas import AuditEventPublic, AuditFilters
from app.auth.principal import Principal
from app.core.db import table_of, time_ordered_id, utcnow
from app.core.pagination import PageQuery
from app.core.sql import json_object
from app.users.models import User


def _actor(principal: Principal | None) -> dict[str, uuid.UUID | None]:
    if principal is None:
        return {"actor_id": None, "actor_key_id": None}
    return {
        "actor_id": principal.user.id if principal.user is not None else None,
        "actor_key_id": principal.key.id if principal.key is not None else None,
    }


def _row(
    action: AuditAction,
    actor: Principal | None,
    *,
    subject_user_id: uuid.UUID | None,
    team_id: uuid.UUID | None,
    object_id: uuid.UUID | None,
    client: str | None,
    request_id: str | None,
    detail: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": time_ordered_id(),
        "at": utcnow(),
        "action": action.value,
        **_actor(actor),
        "subject_user_id": subject_user_id,
        "team_id": team_id,
        "object_id": object_id,
        "detail": detail,
        "client": client,
        "request_id": request_id,
    }


async def record(
    session: AsyncSession,
    action: AuditAction,
    actor: Principal | None,
    *,
    actor_id: uuid.UUID | None = None,
    subject_user_ids: list[uuid.UUID] | tuple[uuid.UUID, ...] = (),
    subject_user_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    object_id: uuid.UUID | None = None,
    **detail: Any,
) -> None:
    """Append events in this transaction: one, or one per person of `subject_user_ids` (an
    invitation of a whole school). `actor_id`: a person acting without a session (a link's
    owner). The request's address and id come with the session (core/deps.py, or `origin`)."""
    subjects: list[uuid.UUID | None] = [*subject_user_ids] or [subject_user_id]
    where = {"client": session.info.get("client"), "request_id": session.info.get("request_id")}
    rows = [
        _row(
            action,
            actor,
            subject_user_id=subject,
            team_id=team_id,
            object_id=object_id,
            detail=detail,
            **where,
        )
        for subject in subjects
    ]
    if actor_id is not None:
        for row in rows:
            row["actor_id"] = actor_id
    for start in range(0, len(rows), 1000):
        await session.execute(insert(table_of(AuditEvent)), rows[start : start + 1000])


def entry(
    action: AuditAction,
    actor: Principal | None = None,
    *,
    actor_id: uuid.UUID | None = None,
    subject_user_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    object_id: uuid.UUID | None = None,
    client: str | None = None,
    request_id: str | None = None,
    **detail: Any,
) -> tuple[type[SQLModel], dict[str, Any]]:
    """An event for the journal (written in the next batch, off the request's path)."""
    row = _row(
        action,
        actor,
        subject_user_id=subject_user_id,
        team_id=team_id,
        object_id=object_id,
        client=client,
        request_id=request_id,
        detail=detail,
    )
    if actor_id is not None:
        row["actor_id"] = actor_id
    return AuditEvent, row


def login_name(raw: str) -> str:
    """What a failed sign-in tried, kept only if it is an address: people type their password
    into the name field, and the trail must not keep it."""
    name = raw.strip().lower()[:320]
    return name if "@" in name and " " not in name else "(not an email address)"


# ---- reading ---------------------------------------------------------------------------------

_Actor = User.__table__.alias("actor")  # type: ignore[attr-defined]
_Subject = User.__table__.alias("subject")  # type: ignore[attr-defined]


def _person(alias: Any, column: Any) -> Any:
    return (
        select(
            json_object(
                id=alias.c.id,
                given_name=alias.c.given_name,
                family_name=alias.c.family_name,
                email=alias.c.email,
            )
        )
        .where(alias.c.id == column)
        .scalar_subquery()
    )


@functools.cache
def _query(
    action: bool, actor: bool, subject: bool, team: bool, since: bool, until: bool
) -> PageQuery:
    """The trail, newest first, for one combination of filters (a template: values are bind
    parameters, so each combination is built once)."""
    e = AuditEvent
    conditions: list[ColumnElement[bool]] = []
    if action:
        conditions.append(col(e.action).in_(bindparam("actions", expanding=True)))
    if actor:
        conditions.append(col(e.actor_id) == bindparam("actor_id"))
    if subject:
        conditions.append(col(e.subject_user_id) == bindparam("subject_user_id"))
    if team:
        conditions.append(col(e.team_id) == bindparam("team_id"))
    if since:
        conditions.append(col(e.at) >= bindparam("since", type_=table_of(e).c.at.type))
    if until:
        conditions.append(col(e.at) < bindparam("until", type_=table_of(e).c.at.type))
    stmt = select(
        col(e.id),
        col(e.at),
        col(e.action),
        col(e.actor_id),
        col(e.actor_key_id),
        col(e.subject_user_id),
        col(e.team_id),
        col(e.object_id),
        col(e.detail),
        col(e.client),
        col(e.request_id),
    )
    if conditions:
        stmt = stmt.where(and_(*conditions))

    def people(page: Any) -> list[Any]:
        return [
            _person(_Actor, page.actor_id).label("actor"),
            _person(_Subject, page.subject_user_id).label("subject_user"),
        ]

    return PageQuery(stmt, (col(e.at).desc(), col(e.id).desc()), people)


def trail_query(filters: AuditFilters) -> tuple[PageQuery, dict[str, Any]]:
    values: dict[str, Any] = {}
    if filters.action:
        values["actions"] = [a.value for a in filters.action]
    if filters.actor_id:
        values["actor_id"] = filters.actor_id
    if filters.subject_user_id:
        values["subject_user_id"] = filters.subject_user_id
    if filters.team_id:
        values["team_id"] = filters.team_id
    if filters.since:
        values["since"] = filters.since
    if filters.until:
        values["until"] = filters.until
    query = _query(
        bool(filters.action),
        filters.actor_id is not None,
        filters.subject_user_id is not None,
        filters.team_id is not None,
        filters.since is not None,
        filters.until is not None,
    )
    return query, values


CSV_COLUMNS = [
    "at",
    "action",
    "actor_id",
    "actor_email",
    "actor_key_id",
    "subject_user_id",
    "subject_email",
    "team_id",
    "object_id",
    "detail",
    "client",
    "request_id",
]


def csv_row(event: AuditEventPublic) -> list[Any]:
    return [
        event.at.isoformat(),
        event.action.value,
        event.actor.id if event.actor else None,
        event.actor.email if event.actor else None,
        event.actor_key_id,
        event.subject_user.id if event.subject_user else None,
        event.subject_user.email if event.subject_user else None,
        event.team_id,
        event.object_id,
        "; ".join(f"{k}={v}" for k, v in sorted(event.detail.items())),
        event.client,
        event.request_id,
    ]
