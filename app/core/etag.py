"""Optimistic concurrency. Versioned records (plans, events, observation and conference records,
reflections) answer with an `ETag`; every change to one must send it back as `If-Match`:
without it the answer is 428 (nothing is silently overwritten), with a stale one 412 carrying
the current `ETag`. The check and the write are one atomic step (db.version_checked)."""

from typing import Annotated

from fastapi import Header, Response

from app.core.errors import PreconditionFailed, PreconditionRequired


def etag(kind: str, version: int) -> str:
    return f'"{kind}-{version}"'


def require_current(if_match: str | None, kind: str, version: int) -> None:
    """428 without `If-Match`; 412 (with the current `ETag`) unless it names the current
    version or is `*` (change it, whatever it is now)."""
    current = etag(kind, version)
    if if_match is None:
        raise PreconditionRequired(
            "Send the ETag you last read as If-Match: changes to this record without it are "
            "refused, so a teammate's save is never silently overwritten"
        )
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    if "*" in tags or current in tags:
        return
    raise PreconditionFailed(
        "The record changed since you read it; fetch it again and retry",
        headers={"ETag": current},
    )


def tag(response: Response, kind: str, version: int) -> None:
    """Send the record's ETag with the answer."""
    response.headers["ETag"] = etag(kind, version)


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=200,
        description="The ETag you last read (`*`: whatever it is now). Required: without it "
        "the answer is 428; a stale one answers 412 and changes nothing",
    ),
]
