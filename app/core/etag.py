"""Optimistic concurrency: responses carry an ETag; a write with a stale If-Match answers 412."""

from typing import Annotated

from fastapi import Header

from app.core.errors import PreconditionFailed


def etag(kind: str, version: int) -> str:
    return f'"{kind}-{version}"'


def check_if_match(if_match: str | None, current: str) -> None:
    """No header: last write wins (as before ETags). `*` or a list holding the current tag: go."""
    if if_match is None:
        return
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    if "*" in tags or current in tags:
        return
    raise PreconditionFailed(
        f"The record changed since you read it (now {current}); fetch it again and retry"
    )


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=200,
        description="The ETag you last read; a stale one answers 412 and changes nothing",
    ),
]
