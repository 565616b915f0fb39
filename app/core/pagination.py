"""One pagination shape for every collection: limit/offset with the total and a next link.

A page is one SQL statement: the rows plus `count(*) OVER ()` for the total, so a list costs the
same number of queries whatever its size. Lists select plain columns (no ORM identity map) and
the whole page is validated in one call.
"""

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

MAX_LIMIT = 200
MAX_OFFSET = 1_000_000
TOTAL = "_total"


class PageParams(BaseModel):
    limit: int
    offset: int


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="Items matching the filters, across all pages")
    limit: int
    offset: int
    next: str | None = Field(description="URL of the next page, or null on the last page")


def next_link(request: Request, params: PageParams, total: int) -> str | None:
    nxt = params.offset + params.limit
    if nxt >= total:
        return None
    return str(request.url.include_query_params(offset=nxt, limit=params.limit))


async def fetch_page(
    session: AsyncSession, stmt: Select[Any], params: PageParams
) -> tuple[list[dict[str, Any]], int]:
    """Rows of one page of an ordered column select (as dicts), and the total matching rows."""
    paged = (
        stmt.add_columns(func.count().over().label(TOTAL)).limit(params.limit).offset(params.offset)
    )
    rows = [dict(m) for m in (await session.execute(paged)).mappings()]
    if rows:
        return rows, int(rows[0][TOTAL])
    if params.offset == 0:
        return [], 0
    # Past the end: the window saw no rows, so count separately (rare).
    count = select(func.count()).select_from(stmt.order_by(None).subquery())
    return [], int((await session.execute(count)).scalar_one())


def build_page(
    page_type: type[BaseModel],
    items: list[Any],
    total: int,
    params: PageParams,
    request: Request,
) -> Any:
    """Validate a whole page in one call (pydantic's core does the per-item work)."""
    return page_type.model_validate(
        {
            "items": items,
            "total": total,
            "limit": params.limit,
            "offset": params.offset,
            "next": next_link(request, params, total),
        },
    )


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    params: PageParams,
    request: Request,
    page_type: type[BaseModel],
) -> Any:
    rows, total = await fetch_page(session, stmt, params)
    return build_page(page_type, rows, total, params, request)
