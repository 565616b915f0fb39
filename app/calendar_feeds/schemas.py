import uuid
from datetime import datetime

from pydantic import Field, model_validator

from app.calendar_feeds.models import FeedKind
from app.core.schemas import InputModel, OutputModel


class CalendarFeedCreate(InputModel):
    kind: FeedKind = Field(
        description="personal: the events you take part in; team: one team's events (its "
        "members); schools: your schools' year-end meetings and covered observations "
        "(administrators)"
    )
    team_id: uuid.UUID | None = Field(default=None, description="For a team feed")

    @model_validator(mode="after")
    def _team_for_team_feeds(self) -> "CalendarFeedCreate":
        if (self.kind == FeedKind.team) != (self.team_id is not None):
            raise ValueError("team_id is given for a team feed, and only for one")
        return self


class CalendarFeedPublic(OutputModel):
    id: uuid.UUID
    kind: FeedKind
    team_id: uuid.UUID | None
    created_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


class CalendarFeedAddress(CalendarFeedPublic):
    url: str = Field(
        description="The secret address to subscribe to (shown only in this answer; rotate the "
        "feed for a new one)"
    )
