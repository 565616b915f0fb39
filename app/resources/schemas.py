import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AnyHttpUrl, Field, model_validator

from app.core.schemas import InputModel, NotNull, OutputModel, ShortText, Text

Url = Annotated[AnyHttpUrl, Field(max_length=2000)]


class ResourceCreate(InputModel):
    title: ShortText
    url: Url | None = Field(default=None, description="A link (http or https)")
    body: Annotated[str, Text(20_000)] | None = Field(
        default=None, description="Or the text itself (Markdown)"
    )
    focus_area_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _link_or_text(self) -> "ResourceCreate":
        if self.url is None and not self.body:
            raise ValueError("give a url or a body")
        return self


class ResourceUpdate(InputModel):
    title: NotNull[ShortText] = None
    url: Url | None = None
    body: Annotated[str, Text(20_000)] | None = None
    focus_area_ids: NotNull[list[uuid.UUID]] = Field(default=None, max_length=20)


class ResourcePublic(OutputModel):
    id: uuid.UUID
    title: str
    url: str | None
    body: str | None
    focus_area_ids: list[uuid.UUID]
    reviewed_by_me: bool
    reviewed_at: datetime | None = Field(description="When you marked it reviewed")
    created_by_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
