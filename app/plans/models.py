import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, one_of, utcnow, version_checked


class PlanStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    approved = "approved"
    returned = "returned"
    completed = "completed"


class ActionPlan(SQLModel, table=True):
    """A team's action plan: what the team shares and an administrator reviews (the one
    learning target, the focus goal, the pre-conference summary). Each teacher's own answers
    to the learning form are their learning form (app/learning_forms)."""

    __tablename__ = "action_plan"
    __table_args__ = (
        one_of("status", PlanStatus),
        # The plan-review queue (teams by plan status) finds the plans of a status directly.
        Index("ix_action_plan_status", "status", "team_id"),
    )

    __mapper_args__ = version_checked()

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    team_id: uuid.UUID = Field(foreign_key="team.id", unique=True, ondelete="RESTRICT")
    learning_target: str | None = Field(default=None, sa_type=Text)
    focus_goal: str | None = Field(default=None, sa_type=Text)
    # Pre-conference: the lesson purpose, the classroom dynamics, philosophies and literature.
    lesson_purpose: str | None = Field(default=None, sa_type=Text)
    classroom_dynamics: str | None = Field(default=None, sa_type=Text)
    philosophies_and_literature: str | None = Field(default=None, sa_type=Text)
    status: PlanStatus = Field(default=PlanStatus.draft, sa_type=String(20))
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Soft delete: hidden from the team until an administrator restores it.
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PlanTransition(SQLModel, table=True):
    """Every status change of a plan: who, when, and what they said."""

    __tablename__ = "plan_transition"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    plan_id: uuid.UUID = Field(foreign_key="action_plan.id", index=True, ondelete="RESTRICT")
    from_status: PlanStatus = Field(sa_type=String(20))
    to_status: PlanStatus = Field(sa_type=String(20))
    actor_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    comment: str | None = Field(default=None, sa_type=Text)
    # A plan completed although progress showed steps missing: their codes (the comment says why).
    steps_missing: list[str] | None = Field(default=None, sa_type=JSON)
    # An approval: the calendar it reviewed, each event's id and version then.
    events_seen: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
