"""Dependencies every domain uses: settings and the request's database session."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import Database
from app.core.reads import Reads
from app.core.writes import Writes


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request that changes something, committed when the handler returns
    and before the answer is sent (the dependency is scoped to the function, see `SessionDep`);
    services only flush. It takes SQLite's write lock at BEGIN (see db.py). Reads never open
    one: they go through `ReadsDep`."""
    db: Database = request.app.state.db
    async with db.session() as session:
        # From where, for the audit events the request's changes append (app/audit).
        session.info["client"] = request.client.host[:64] if request.client else None
        session.info["request_id"] = getattr(request.state, "request_id", None)
        yield session


async def get_writes(request: Request) -> Writes:
    """The request's write transactions on the driver (core/writes.py), for changes of a few
    statements; the rest write through `SessionDep`."""
    return Writes(request.app.state.db)


async def get_reads(request: Request) -> Reads:
    """The request's read interface (core/reads.py): what every GET reads, no session."""
    db: Database = request.app.state.db
    return Reads(db.driver, request, kept=db.kept)


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
# scope="function": FastAPI runs the code after `yield` when the handler has returned, before
# the response is sent. With the default ("request") it runs after the answer has gone out, so
# a client could be told 201 for a write whose commit then failed, or read it back too early.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadsDep = Annotated[Reads, Depends(get_reads)]
WritesDep = Annotated[Writes, Depends(get_writes)]
