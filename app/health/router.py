"""Probes for orchestrators: liveness needs nothing, readiness needs the database at head."""

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from app.core.deps import DatabaseDep
from app.core.errors import ServiceUnavailable, error_responses
from app.core.migrations import head_revision

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
async def readyz(db: DatabaseDep) -> Readiness:
    """The database answers and its schema is at the newest migration; 503 otherwise."""
    try:
        async with db.engine.connect() as conn:
            current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except Exception as exc:
        raise ServiceUnavailable("The database is unreachable or not migrated") from exc
    if current != head_revision():
        raise ServiceUnavailable(f"Database schema is at {current}, expected {head_revision()}")
    return Readiness(status="ok", migration=current)
