"""Learning forms: each teacher's answers for their team's cycle (who may read and write them:
learning_forms/policies.py, through learning_forms/deps.py)."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal, caller_values
from app.core import rows
from app.core.access import public_columns
from app.core.db import table_of
from app.core.errors import Conflict, Forbidden
from app.core.etag import require_current
from app.core.pagination import PageQuery
from app.core.reads import Bound
from app.core.sql import AnySelect, json_object
from app.learning_forms import policies
from app.learning_forms.models import LearningForm
from app.learning_forms.schemas import LearningFormPublic, LearningFormWrite
from app.plans.models import ActionPlan, PlanStatus
from app.school_years import service as school_years
from app.teams import policies as team_policies
from app.teams.models import Team
from app.teams.policies import TeamAccess


def form_statement(principal: Principal, team_id: uuid.UUID, teacher_id: uuid.UUID) -> Bound:
    """A team the caller sees (no row: 404), the caller's standing on it, and the teacher's
    form if written, in one statement."""
    stmt = _form(team_policies.team_reach(principal), team_policies.may_be_member(principal))
    values = {**caller_values(principal), "team_id": team_id, "teacher_id": teacher_id}
    return Bound(stmt, values)


@functools.cache
def _form(reach: team_policies.TeamReach, teacher: bool) -> AnySelect:
    fields = {c.key: c for c in public_columns(LearningForm, LearningFormPublic)}
    form = select(json_object(**fields)).where(
        col(LearningForm.team_id) == Team.id,
        col(LearningForm.teacher_id) == bindparam("teacher_id"),
    )
    return select(
        *team_policies.confidential_columns_for(teacher, Team),
        form.scalar_subquery().label("record"),
    ).where(
        col(Team.id) == bindparam("team_id"),
        team_policies.teams_within(reach, include_deleted=True, one=True),
    )


def team_forms_query(principal: Principal, team_id: uuid.UUID) -> tuple[PageQuery, dict[str, Any]]:
    """The forms of a team within the caller's reach (written since they read the team's
    confidential content), oldest first. Read it within `records.service.team_records_check`:
    the reach says nothing of who may read the team's forms at all."""
    return _TEAM_FORMS, {**caller_values(principal), "team_id": team_id}


ORDER = (col(LearningForm.created_at), col(LearningForm.id))


# The forms of a team within the caller's reach (`teams.policies.written_in_reach`).
_FORMS_IN_REACH = select(*table_of(LearningForm).columns).where(
    col(LearningForm.team_id) == bindparam("team_id"),
    team_policies.written_in_reach(col(LearningForm.created_at), col(LearningForm.team_id)),
)
_TEAM_FORMS = PageQuery(_FORMS_IN_REACH, ORDER)
_ALL_TEAM_FORMS = _FORMS_IN_REACH.order_by(*ORDER)


def team_forms_statement(principal: Principal, team_id: uuid.UUID) -> Bound:
    """All of a team's forms within the caller's reach, for a document (a team has a handful).
    Read it after deciding the caller reads the team's forms at all."""
    return Bound(_ALL_TEAM_FORMS, {**caller_values(principal), "team_id": team_id})


def own_forms_query(principal: Principal) -> tuple[PageQuery, dict[str, Any]]:
    """The forms the caller wrote, on any team, latest first."""
    return _OWN_FORMS, caller_values(principal)


_OWN_FORMS = PageQuery(
    select(*table_of(LearningForm).columns).where(policies.own_forms()),
    (col(LearningForm.created_at).desc(), col(LearningForm.id)),
)


async def put(
    session: AsyncSession,
    principal: Principal,
    access: TeamAccess,
    teacher_id: uuid.UUID,
    data: LearningFormWrite,
    if_match: str | None,
) -> tuple[LearningForm, bool]:
    """Write your learning form, or replace it (`if_match`: the version read; 428/412), until
    the team's plan is completed. Returns (form, created)."""
    if not policies.can_write(principal, access, teacher_id):
        raise Forbidden("Each teacher writes their own learning form; you read your teammates'")
    plan_status = await session.scalar(
        select(col(ActionPlan.status)).where(col(ActionPlan.team_id) == access.team.id)
    )
    if plan_status == PlanStatus.completed:
        raise Conflict("The plan is completed: the team's learning forms are kept as they are")
    await school_years.require_open(session, access.team.school_year)
    found = await session.execute(
        select(LearningForm)
        .where(
            col(LearningForm.team_id) == access.team.id,
            col(LearningForm.teacher_id) == teacher_id,
        )
        .with_for_update()
    )
    form = found.scalar_one_or_none()
    created = form is None
    if form is None:
        form = LearningForm(team_id=access.team.id, teacher_id=teacher_id)
    else:
        require_current(if_match, "learning-form", form.version)
        rows.changed(form)
    for key, value in data.model_dump().items():
        setattr(form, key, value)
    session.add(form)
    await session.flush()
    return form, created
