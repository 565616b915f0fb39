import uuid

from app.core.schemas import InputModel, OutputModel, ShortText, Text


class FocusAreaCreate(InputModel):
    name: ShortText  # type: ignore[valid-type]
    description: Text(2000) | None = None  # type: ignore[valid-type]


class FocusAreaUpdate(InputModel):
    name: ShortText | None = None  # type: ignore[valid-type]
    description: Text(2000) | None = None  # type: ignore[valid-type]
    is_active: bool | None = None


class FocusAreaPublic(OutputModel):
    id: uuid.UUID
    name: str
    description: str | None
    is_active: bool


class FocusAreaRef(OutputModel):
    id: uuid.UUID
    name: str
