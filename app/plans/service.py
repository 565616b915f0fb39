"""The action plan and its review workflow: draft -> submitted -> approved | returned ->
completed. Every transition is recorded; an illegal one answers 409."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.audit.models import AuditAction
from app.auth.principal import Principal, caller_values
from app.core import rows
from app.core.access import public_columns
from app.core.db import table_of
from app.core.errors import Conflict, FieldError, Forbidden, Unprocessable
from app.core.etag import require_current
from app.core.pagination import PageQuery
from app.core.reads import Bound
from app.core.sql import AnySelect, json_object
from app.events.models import Event
from app.notifications import service as notifications
from app.notifications.models import NotificationKind
from app.plans import policies
from app.plans.models import ActionPlan, PlanStatus, PlanTransition
from app.plans.schemas import PlanAction, PlanPublic, PlanTransitionCreate, PlanUpdate
from app.progress import service as progress
from app.teams import policies as team_policies
from app.teams.models import Team
from app.teams.policies import TeamAccess

EDITABLE = frozenset({PlanStatus.draft, PlanStatus.returned})


@dataclass(frozen=True)
class Rule:
    from_states: frozenset[PlanStatus]
    to_state: PlanStatus
    by_admin: bool
    comment_required: bool = False


RULES = {
    PlanAction.submit: Rule(frozenset(EDITABLE), PlanStatus.submitted, by_admin=False),
    PlanAction.approve: Rule(frozenset({PlanStatus.submitted}), PlanStatus.approved, by_admin=True),
    PlanAction.return_: Rule(
        frozenset({PlanStatus.submitted}), PlanStatus.returned, by_admin=True, comment_required=True
    ),
    PlanAction.complete: Rule(
        frozenset({PlanStatus.approved}), PlanStatus.completed, by_admin=True
    ),
}


async def of_team(session: AsyncSession, access: TeamAccess) -> ActionPlan | None:
    """The live plan of a team the caller was already allowed to see (documents built from
    the team: the summary form)."""
    stmt = select(ActionPlan).where(
        col(ActionPlan.team_id) == access.team.id, col(ActionPlan.deleted_at).is_(None)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def soft_delete(session: AsyncSession, plan: ActionPlan) -> None:
    rows.soft_delete(plan)
    session.add(plan)
    await session.flush()


async def restore(session: AsyncSession, plan: ActionPlan) -> ActionPlan:
    rows.restore(plan, "plan")
    session.add(plan)
    await session.flush()
    return plan


async def update(session: AsyncSession, plan: ActionPlan, data: PlanUpdate) -> ActionPlan:
    if plan.status not in EDITABLE:
        raise Conflict(
            f"The plan is {PlanStatus(plan.status).value}; "
            "only draft or returned plans can be edited"
        )
    changes = rows.patch(plan, data)
    if not changes:
        return plan
    for key, value in changes.items():
        setattr(plan, key, value)
    rows.changed(plan)
    session.add(plan)
    await session.flush()
    return plan


async def set_learning_target(
    session: AsyncSession, team_id: uuid.UUID, target: str | None
) -> None:
    """Set the team's one learning target, the plan's, from the team or from what its
    pre-conference agreed: while the plan is a draft or returned (409 otherwise, unless it is
    already that target). The plan's version advances."""
    stmt = select(ActionPlan).where(
        col(ActionPlan.team_id) == team_id, col(ActionPlan.deleted_at).is_(None)
    )
    plan = (await session.execute(stmt.with_for_update())).scalar_one_or_none()
    if plan is None:
        raise Conflict("The team's plan was deleted; restore it before changing its target")
    if plan.learning_target == target:
        return
    if plan.status not in EDITABLE:
        raise Conflict(
            f"The plan is {PlanStatus(plan.status).value}: its learning target changes only "
            "while the plan is a draft or returned"
        )
    plan.learning_target = target
    rows.changed(plan)
    session.add(plan)
    await session.flush()


async def transition(
    session: AsyncSession,
    principal: Principal,
    access: TeamAccess,
    plan: ActionPlan,
    data: PlanTransitionCreate,
    if_match: str | None,
) -> ActionPlan:
    """Make a move of the review workflow, if the caller may (403 first) and `if_match` names
    the plan's current version (428/412: etag.require_current)."""
    rule = RULES[data.action]
    if not policies.can_move(principal, access, by_admin=rule.by_admin):
        raise Forbidden(
            f"Only an administrator of a member's school who is not on the team can "
            f"{data.action.value} its plan"
            if rule.by_admin
            else f"Only the team's members can {data.action.value} their plan"
        )
    require_current(if_match, "plan", plan.version)
    if access.team.deleted_at is not None:
        raise Conflict("The team is deleted; restore it first")
    if plan.status not in rule.from_states:
        raise Conflict(f"A {PlanStatus(plan.status).value} plan cannot be {rule.to_state.value}")
    if rule.comment_required and not data.comment:
        raise Unprocessable(
            "Say why the plan is returned",
            errors=[
                FieldError(
                    field="body.comment", message="required to return a plan", type="missing"
                )
            ],
        )
    overridden = await _steps_overridden(session, principal, access, data)
    seen = await _calendar(session, access.team.id) if data.action == PlanAction.approve else None
    session.add(
        PlanTransition(
            plan_id=plan.id,
            from_status=plan.status,
            to_status=rule.to_state,
            actor_id=principal.user.id if principal.user else None,
            comment=data.comment,
            steps_missing=overridden,
            events_seen=seen,
        )
    )
    plan.status = rule.to_state
    rows.changed(plan)
    session.add(plan)
    await session.flush()
    await _tell(session, principal, access, data.action)
    decision = _DECISIONS.get(data.action)
    if decision is not None:
        await audit.record(
            session,
            decision,
            principal,
            team_id=access.team.id,
            object_id=plan.id,
            overridden_steps=len(overridden or []),
        )
    return plan


async def _tell(
    session: AsyncSession, principal: Principal, access: TeamAccess, action: PlanAction
) -> None:
    """A submitted plan: the administrators of the members' schools are told; a returned or
    approved one: the team."""
    team = access.team
    link = f"/teams/{team.id}/plan"
    members = await notifications.team_members(session, team.id)
    if action == PlanAction.submit:
        admins = await notifications.school_admins_of(session, members)
        await notifications.tell(
            session, admins, NotificationKind.plan_submitted,
            f"{team.name}: action plan submitted for your review", link,
            team_id=team.id, actor=principal,
        )  # fmt: skip
    elif action in (PlanAction.return_, PlanAction.approve):
        kind, verb = (
            (NotificationKind.plan_returned, "returned with a comment")
            if action == PlanAction.return_
            else (NotificationKind.plan_approved, "approved")
        )
        await notifications.tell(
            session, members, kind, f"{team.name}: action plan {verb}", link,
            team_id=team.id, actor=principal,
        )  # fmt: skip


# Administrators' decisions about a plan, for the audit trail (the team's own moves are in the
# plan's history).
_DECISIONS = {
    PlanAction.approve: AuditAction.plan_approved,
    PlanAction.return_: AuditAction.plan_returned,
    PlanAction.complete: AuditAction.plan_completed,
}


async def _calendar(session: AsyncSession, team_id: uuid.UUID) -> list[dict[str, Any]]:
    """The team's calendar as an approval reviews it: each live event's id and version."""
    found = await session.execute(
        select(col(Event.id), col(Event.version))
        .where(col(Event.team_id) == team_id, col(Event.deleted_at).is_(None))
        .order_by(col(Event.starts_at), col(Event.id))
    )
    return [{"id": str(event_id), "version": version} for event_id, version in found]


async def _steps_overridden(
    session: AsyncSession, principal: Principal, access: TeamAccess, data: PlanTransitionCreate
) -> list[str] | None:
    """Completing a plan needs the cycle done, as the team's progress shows it to the caller:
    409 listing what is missing, unless they override it saying why (the codes are kept)."""
    if data.action != PlanAction.complete:
        return None
    missing = (await progress.team_progress(session, principal, access.team.id)).missing
    if not missing:
        return None
    if not data.override_missing:
        raise Conflict(
            f"The cycle is not complete ({len(missing)} steps missing); to complete the plan "
            "anyway, send override_missing with a comment saying why",
            errors=[
                FieldError(field=f"progress.{m.code.value}", message=m.message, type=m.code.value)
                for m in missing
            ],
        )
    if not data.comment:
        raise Unprocessable.for_field(
            "comment", "say why the plan is completed with steps missing", "missing"
        )
    return [m.code.value for m in missing]


class PlanOfTeam(BaseModel):
    """A team the caller sees, with its live plan (None: it has none)."""

    team_id: uuid.UUID
    plan: PlanPublic | None


def plan_of_team_statement(principal: Principal, team_id: uuid.UUID) -> Bound:
    """The team's live plan if the caller sees the team (its visibility plus the id), in one
    statement: no snapshot to open for the two of them (on PostgreSQL four round trips were
    one BEGIN, two statements and a COMMIT)."""
    values = {**caller_values(principal), "team_id": team_id}
    return Bound(_plan_of_team(team_policies.team_reach(principal)), values)


@functools.cache
def _plan_of_team(reach: team_policies.TeamReach) -> AnySelect:
    fields = {c.key: c for c in public_columns(ActionPlan, PlanPublic)}
    plan = select(json_object(**fields)).where(
        col(ActionPlan.team_id) == Team.id, col(ActionPlan.deleted_at).is_(None)
    )
    return select(col(Team.id).label("team_id"), plan.scalar_subquery().label("plan")).where(
        col(Team.id) == bindparam("team_id"),
        team_policies.teams_within(reach, include_deleted=True, one=True),
    )


def live_plan_statement(team_id: uuid.UUID) -> Bound:
    """A team's plan unless deleted (who may read it is the team's visibility)."""
    return Bound(_LIVE_PLAN, {"team_id": team_id})


_LIVE_PLAN = select(*public_columns(ActionPlan, PlanPublic)).where(
    col(ActionPlan.team_id) == bindparam("team_id"), col(ActionPlan.deleted_at).is_(None)
)


def transitions_query(team_id: uuid.UUID) -> tuple[PageQuery, dict[str, Any]]:
    """The history of a team's live plan, oldest first (a list template), with the value of
    its parameter."""
    return _TRANSITIONS, {"team_id": team_id}


_TRANSITIONS = PageQuery(
    select(*table_of(PlanTransition).columns).where(
        col(PlanTransition.plan_id)
        == select(col(ActionPlan.id))
        .where(
            col(ActionPlan.team_id) == bindparam("team_id"), col(ActionPlan.deleted_at).is_(None)
        )
        .scalar_subquery()
    ),
    (PlanTransition.at, PlanTransition.id),
)
