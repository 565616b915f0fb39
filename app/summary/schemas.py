from pydantic import BaseModel, Field

from app.events.schemas import EventPublic
from app.learning_forms.schemas import LearningFormPublic
from app.plans.schemas import PlanPublic
from app.progress.schemas import TeamProgress
from app.records.schemas import ConferenceRecordPublic, ObservationRecordPublic
from app.reflections.schemas import ReflectionPublic
from app.teams.schemas import TeamPublic


class TeamSummary(BaseModel):
    """The Peer Coaching Summary Form: plan, calendar, conference and observation records and
    reflections. For administrators the confidential parts are left out (null)."""

    team: TeamPublic
    plan: PlanPublic
    progress: TeamProgress
    calendar: list[EventPublic]
    conference_records: list[ConferenceRecordPublic] | None = Field(
        description="Team members only; null for administrators"
    )
    observation_records: list[ObservationRecordPublic] | None = Field(
        description="Team members only; null for administrators"
    )
    learning_forms: list[LearningFormPublic] | None = Field(
        description="Each teacher's learning form: team members only; null for administrators"
    )
    reflections: list[ReflectionPublic] = Field(
        description="Posts linked to the team that the caller may read"
    )
    confidential_included: bool
