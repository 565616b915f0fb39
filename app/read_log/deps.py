"""Noting a read of confidential content in the team's read log and the audit trail, in the
next batch of the journal (app/core/journal.py): the read does not wait for the write."""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.audit import service as audit
from app.audit.models import AuditAction
from app.auth.deps import StaffCaller
from app.core.db import time_ordered_id, utcnow
from app.core.journal import Journal
from app.read_log.models import ConfidentialRead, ReadKind


@dataclass
class ReadNoter:
    """Notes what the caller of this request read."""

    journal: Journal
    reader_id: uuid.UUID
    client: str | None
    request_id: str | None

    async def __call__(
        self, kind: ReadKind, team_id: uuid.UUID, record_id: uuid.UUID | None = None
    ) -> None:
        at = utcnow()
        read = {
            "id": time_ordered_id(),
            "team_id": team_id,
            "reader_id": self.reader_id,
            "kind": kind.value,
            "record_id": record_id,
            "client": self.client,
            "at": at,
        }
        event = audit.entry(
            AuditAction.confidential_read,
            actor_id=self.reader_id,
            team_id=team_id,
            object_id=record_id,
            client=self.client,
            request_id=self.request_id,
            kind=kind.value,
        )
        await self.journal.note((ConfidentialRead, read), event)


async def get_read_noter(request: Request, caller: StaffCaller) -> ReadNoter:
    client = request.client.host[:64] if request.client else None
    return ReadNoter(
        request.app.state.journal,
        caller.staff.id,
        client,
        getattr(request.state, "request_id", None),
    )


NoteRead = Annotated[ReadNoter, Depends(get_read_noter)]
