"""Noting a read of confidential content in the team's read log (app/read_log/writer.py)."""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.auth.deps import StaffCaller
from app.core.db import new_id, utcnow
from app.read_log.models import ReadKind
from app.read_log.writer import ReadLogWriter


@dataclass
class ReadNoter:
    """Notes what the caller of this request read."""

    writer: ReadLogWriter
    reader_id: uuid.UUID
    client: str | None

    async def __call__(
        self, kind: ReadKind, team_id: uuid.UUID, record_id: uuid.UUID | None = None
    ) -> None:
        await self.writer.note(
            id=new_id(),
            team_id=team_id,
            reader_id=self.reader_id,
            kind=kind.value,
            record_id=record_id,
            client=self.client,
            at=utcnow(),
        )


async def get_read_noter(request: Request, caller: StaffCaller) -> ReadNoter:
    client = request.client.host[:64] if request.client else None
    return ReadNoter(request.app.state.read_log, caller.staff.id, client)


NoteRead = Annotated[ReadNoter, Depends(get_read_noter)]
