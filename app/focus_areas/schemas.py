import uuid
from typing import Annotated

from app.core.schemas import InputModel, NotNull, OutputModel, ShortText, Text


class FocusAreaCreate(InputModel):
    name: ShortText
    description: Annotated[str, Text(2000)] | None = None


class FocusAreaUpdate(InputModel):
    name: NotNull[ShortText] = None
    description: Annotated[str, Text(2000)] | None = None
    is_active: NotNull[bool] = None


class FocusAreaPublic(OutputModel):
    id: uuid.UUID
    name: str
    description: str | None
    is_active: bool


class FocusAreaRef(OutputModel):
    id: uuid.UUID
    name: str
