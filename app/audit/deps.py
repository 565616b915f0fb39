"""Who reads the audit trail, as a typed dependency (403 before the handler runs), and the
request's way to note events that are not changes (sign-ins)."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from app.audit import policies, service
from app.audit.models import AuditAction
from app.auth.deps import DistrictAdmin
from app.auth.principal import Principal
from app.core.errors import Forbidden
from app.core.journal import Journal


async def get_trail_reader(caller: DistrictAdmin) -> Principal:
    if not policies.can_read_trail(caller):
        raise Forbidden("District administrators read the audit trail")
    return caller


TrailReader = Annotated[Principal, Depends(get_trail_reader)]


@dataclass(frozen=True)
class AuditNotes:
    """Events of this request that are not changes of ours (a sign-in, a failed one): written
    with the journal's next batch, so the request does not wait (app/audit/service.py)."""

    journal: Journal
    client: str | None
    request_id: str | None

    @property
    def origin(self) -> dict[str, str | None]:
        """From where, for a service that records events in a session it opens itself."""
        return {"client": self.client, "request_id": self.request_id}

    async def note(self, action: AuditAction, actor: Principal | None = None, **facts: Any) -> None:
        await self.journal.note(
            service.entry(action, actor, client=self.client, request_id=self.request_id, **facts)
        )


async def get_audit_notes(request: Request) -> AuditNotes:
    return AuditNotes(
        request.app.state.journal,
        request.client.host[:64] if request.client else None,
        getattr(request.state, "request_id", None),
    )


AuditNotesDep = Annotated[AuditNotes, Depends(get_audit_notes)]
