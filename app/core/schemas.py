"""Building blocks for request and response models."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, TypeVar, Union

from annotated_types import GroupedMetadata
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
)
from pydantic.json_schema import SkipJsonSchema


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


@dataclass(frozen=True)
class Text(GroupedMetadata):
    """A stripped string with a length limit that refuses NUL bytes: `Annotated[str, Text(200)]`."""

    max_length: int
    min_length: int = 0

    def __iter__(self) -> Iterator[object]:
        yield from StringConstraints(
            strip_whitespace=True, min_length=self.min_length, max_length=self.max_length
        )
        yield AfterValidator(_no_nul)


Name = Annotated[str, Text(100, 1)]

_T = TypeVar("_T")
# A PATCH field that cannot be null (its column is NOT NULL, or it lists references: the rule
# in app/core/rows.py `patch`): left out it keeps its value; the OpenAPI document does not
# offer null, and a null sent anyway is a 422 naming the field. Constraints go inside `_T`
# (`NotNull[Annotated[int, Field(ge=1)]]`) so they never apply to the null.
NotNull = Union[_T, SkipJsonSchema[None]]  # noqa: UP007 (a generic alias needs Union here)
ShortText = Annotated[str, Text(200, 1)]
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]")


def _iso_only(value: object) -> object:
    # pydantic would read numbers ("0.5") as Unix timestamps; the API speaks RFC 3339 only.
    if not isinstance(value, datetime) and not (isinstance(value, str) and _ISO_DATE.match(value)):
        raise ValueError(
            "must be an RFC 3339 date-time with an offset, e.g. 2026-12-01T09:00:00-06:00"
        )
    return value


# Instants the program can mean. Far outside, converting between time zones overflows (year
# 1 or 9999 with an offset), and nothing a school plans happens there.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _in_range(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError(
            f"must be between {EARLIEST.date().isoformat()} and {LATEST.date().isoformat()}"
        )
    return value


# A datetime that must carry its offset: a naive value in a request is a 422.
Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_only), AfterValidator(_in_range)]


class InputModel(BaseModel):
    """Request bodies: unknown fields are an error, never silently dropped or applied."""

    model_config = ConfigDict(extra="forbid")


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Models a route reads itself (to parse a large body off the event loop) rather than through a
# parameter: the OpenAPI document lists them under components/schemas all the same.
DOCUMENTED: list[type[BaseModel]] = []


def documented(model: type[BaseModel]) -> type[BaseModel]:
    DOCUMENTED.append(model)
    return model


__all__ = [
    "DOCUMENTED",
    "InputModel",
    "Name",
    "OutputModel",
    "ShortText",
    "Text",
    "Timestamp",
    "documented",
]
