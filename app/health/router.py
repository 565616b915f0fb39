"""Probes for orchestrators: liveness needs nothing; readiness needs the database reachable and
at the newest migration, and the process not shutting down."""

from fastapi import APIRouter, Request
from pydantic import BaseModel

from app.core.deps import DatabaseDep
from app.core.errors import ServiceUnavailable, error_responses
from app.health.service import Probe

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(Health):
    migration: str | None


@router.get("/healthz")
async def healthz() -> Health:
    """The process is up. Touches nothing else."""
    return Health(status="ok")


@router.get("/readyz", responses=error_responses(503))
async def readyz(request: Request, db: DatabaseDep) -> Readiness:
    """Ready for traffic: not shutting down, the database answers on a connection of its own
    (a busy pool is not an outage), and its schema is at the newest migration. 503 says which
    of these is not so."""
    if request.app.state.lifecycle.draining:
        raise ServiceUnavailable("The server is shutting down")
    probe: Probe = request.app.state.readiness
    return Readiness(status="ok", migration=await probe.migration(db))
