import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.core.schemas import InputModel, OutputModel
from app.notifications.models import NotificationKind


class NotificationPublic(OutputModel):
    id: uuid.UUID
    kind: NotificationKind
    title: str
    link: str = Field(description="Where to see it in the front end (a path)")
    team_id: uuid.UUID | None
    created_at: datetime
    read_at: datetime | None


class UnreadCount(BaseModel):
    unread: int


class ReadAll(BaseModel):
    marked: int = Field(description="How many were unread and are read now")


class KindSetting(OutputModel):
    kind: NotificationKind
    email: bool


class NotificationSettings(BaseModel):
    settings: list[KindSetting] = Field(description="Every kind, and whether it is emailed")


class NotificationSettingsUpdate(InputModel):
    email: dict[NotificationKind, bool] = Field(
        description="Kinds to email (true) or only show in the app (false); others unchanged"
    )
