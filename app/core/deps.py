"""Dependencies every domain uses: settings and the request's database session."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import Database
from app.core.reads import Reader

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed after the handler returns; services only flush.

    Reads use a deferred transaction; writes take SQLite's write lock at BEGIN (see db.py).
    """
    db: Database = request.app.state.db
    async with db.session(write=request.method not in SAFE_METHODS) as session:
        yield session


async def get_reader(request: Request) -> Reader:
    """The hot read path (core/reads.py): list pages and other plain selects, no session."""
    reads: Reader = request.app.state.db.reads
    return reads


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
ReaderDep = Annotated[Reader, Depends(get_reader)]
