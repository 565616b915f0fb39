import uuid
from datetime import datetime
from functools import lru_cache
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AfterValidator, Field, StringConstraints

from app.core.schemas import InputModel, NotNull, OutputModel, ShortText, Text


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _iana_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError("must be an IANA time zone name, e.g. America/Chicago")
    return value


TimeZone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(_iana_zone),
    Field(examples=["America/Chicago"]),
]
SourcedId = Annotated[str, Text(255, 1)]


class SchoolCreate(InputModel):
    name: ShortText
    time_zone: TimeZone
    sourced_id: SourcedId | None = None


class SchoolUpdate(InputModel):
    name: NotNull[ShortText] = None
    time_zone: NotNull[TimeZone] = None
    sourced_id: SourcedId | None = None


class SchoolPublic(OutputModel):
    id: uuid.UUID
    name: str
    time_zone: str
    sourced_id: str | None
    created_at: datetime
    updated_at: datetime
