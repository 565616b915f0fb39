"""Each teacher's own answers to the learning form for their team's cycle ("Your name / Peer's
name"): confidential to the team, like the observation and conference records."""

import uuid
from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, utcnow, version_checked


class LearningForm(SQLModel, table=True):
    """One teacher's learning form on one team: the pre-conference part (the purpose the target
    has for them, their philosophies and literature, what was discussed) and the action-plan
    part (what they take back, how they apply it, how they address their open questions),
    answered through the cycle until the plan is completed. The learning target itself is the
    plan's, shared by the team."""

    __tablename__ = "learning_form"
    __table_args__ = (UniqueConstraint("team_id", "teacher_id"),)

    __mapper_args__ = version_checked()

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    team_id: uuid.UUID = Field(foreign_key="team.id", ondelete="RESTRICT")
    teacher_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="RESTRICT")
    purpose: str | None = Field(default=None, sa_type=Text)
    philosophies_and_literature: str | None = Field(default=None, sa_type=Text)
    pre_conference_summary: str | None = Field(default=None, sa_type=Text)
    take_back_to_classroom: str | None = Field(default=None, sa_type=Text)
    how_to_apply: str | None = Field(default=None, sa_type=Text)
    addressing_open_questions: str | None = Field(default=None, sa_type=Text)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
