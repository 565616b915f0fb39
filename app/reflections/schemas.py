import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, model_validator

from app.core.schemas import InputModel, NotNull, OutputModel, ShortText, Text
from app.reflections.models import Visibility
from app.teams.schemas import MemberRef

Body = Annotated[str, Text(50_000, 1)]


class ReflectionCreate(InputModel):
    title: ShortText
    body: Body = Field(description="Markdown")
    visibility: Visibility = Field(
        default=Visibility.private,
        description="private: only you; team: you and the linked team; program: every teacher "
        "and administrator of the district",
    )
    team_id: uuid.UUID | None = Field(default=None, description="A team you are on")
    event_id: uuid.UUID | None = Field(default=None, description="An event of that team")
    observation_record_id: uuid.UUID | None = Field(
        default=None, description="An observation record of that team"
    )

    @model_validator(mode="after")
    def _team_visibility(self) -> "ReflectionCreate":
        if self.visibility == Visibility.team and self.team_id is None:
            raise ValueError("team visibility needs a team_id")
        if (self.event_id or self.observation_record_id) and self.team_id is None:
            raise ValueError("link the team when linking an event or an observation record")
        return self


class ReflectionUpdate(InputModel):
    title: NotNull[ShortText] = None
    body: NotNull[Body] = None
    visibility: NotNull[Visibility] = None


class ReflectionPublic(OutputModel):
    id: uuid.UUID
    author: MemberRef
    title: str
    body: str
    visibility: Visibility
    team_id: uuid.UUID | None
    event_id: uuid.UUID | None
    observation_record_id: uuid.UUID | None
    comment_count: int
    hidden_at: datetime | None = Field(
        description="A program post a district administrator took off the blog (only its "
        "author still reads it)"
    )
    hidden_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class CommentCreate(InputModel):
    body: Annotated[str, Text(5000, 1)]


class CommentPublic(OutputModel):
    id: uuid.UUID
    reflection_id: uuid.UUID
    author: MemberRef
    body: str
    version: int
    created_at: datetime
    updated_at: datetime


class ReflectionHide(InputModel):
    reason: Annotated[str, Text(1000, 1)] = Field(description="Why, for the author and the record")
