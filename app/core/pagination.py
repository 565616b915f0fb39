"""One pagination shape for every collection: limit/offset with the total and a next link.

The total is counted up to `PAGES_COUNTED` pages past the page's offset (250 items at the default
`limit` of 50), never further: counting every matching row of a district-sized list (20,000
staff) costs more than the page itself on every request (a teacher's reflections at district
scale, SQLite: 0.6 ms to count a thousand posts, 0.1 ms to count 200, 0.4 ms for the page of 50
itself), and a front end shows "1-50 of 250+" as well as "of 20,000". `total_exact` says
whether `total` is the full count (it is whenever fewer than `offset + PAGES_COUNTED * limit`
items match); when it is not, `total` is a lower bound and `next` leads on as usual.

A page is one statement whatever its size: the page's rows, each carrying the (capped) total as
an uncorrelated scalar subquery (`(SELECT count(*) FROM (... LIMIT n)) AS _total`), which both
engines evaluate once. Measured against the alternatives (bench/README.md): `count(*) OVER ()`
makes the database build every matching row with all its columns before it can cut the page
(on PostgreSQL three times the server time for 500 staff; on SQLite a sort of all of them), and
a second statement costs a round trip. Only a page past the end, which has no row to carry the
total, counts separately.

Lists select plain columns (no ORM identity map), are read by `Reads.page` (core/reads.py), and
the whole page is validated in one call. The busiest lists go one step further: their statements
are `PageQuery` templates, built once per filter combination with bind parameters for every value
a request varies, so a request neither builds nor compiles SQL.
"""

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import (
    ColumnElement,
    Integer,
    UnaryExpression,
    bindparam,
    func,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.sql import operators

from app.core.compiled import rows_to_count, shapes_rows
from app.core.links import same_path_with
from app.core.sql import AnySelect, found

T = TypeVar("T")
U = TypeVar("U")

MAX_LIMIT = 200
MAX_OFFSET = 1_000_000
PAGES_COUNTED = 5  # at least 2, so that a capped total always leaves a next page
TOTAL = "_total"
LIMIT = "_limit"
OFFSET = "_offset"
COUNT_UP_TO = "_count_up_to"


class PageParams(BaseModel):
    limit: int
    offset: int
    # False: the total is not counted (0, not exact), for a caller that shows none (a whole
    # download): the count would run the list's filter a second time.
    counted: bool = True


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(
        description="Items matching the filters, across all pages, counted up to five pages "
        "(5 x `limit` items) past `offset` (see `total_exact`)"
    )
    total_exact: bool = Field(
        description="Whether `total` is the full count; false when more items match than were "
        "counted (`total` is then a lower bound)"
    )
    limit: int
    offset: int
    next: str | None = Field(description="URL of the next page, or null on the last page")

    def holding(self, schema: type[U], items: list[U]) -> "Page[U]":
        """This page's place in the list (total, limit, offset, next) with other items: a page
        of kept documents, listed by a page of their teams."""
        return Page[schema](  # type: ignore[valid-type]
            items=items,
            total=self.total,
            total_exact=self.total_exact,
            limit=self.limit,
            offset=self.offset,
            next=self.next,
        )


def next_link(request: Request, params: PageParams, total: int) -> str | None:
    nxt = params.offset + params.limit
    if nxt >= total:
        return None
    return same_path_with(request, {"offset": nxt, "limit": params.limit})


def counted(stmt: AnySelect) -> AnySelect:
    """The number of rows `stmt` selects, up to the value of the `COUNT_UP_TO` parameter.

    Counted without the joins that only add columns (`compiled.rows_to_count`): a page of a
    school's coverage requests counted each one with its observation and its requester, 1 of
    its 2.7 ms on PostgreSQL."""
    rows = stmt.order_by(None)
    if not shapes_rows(stmt):  # each row is one item: only whether it exists matters
        rows = rows_to_count(rows)
    up_to = bindparam(COUNT_UP_TO, type_=Integer)
    return select(func.count()).select_from(rows.limit(up_to).subquery())


def count_up_to(params: PageParams) -> int:
    return params.offset + PAGES_COUNTED * params.limit if params.counted else 0


def is_exact(total: int, params: PageParams) -> bool:
    return total < count_up_to(params)


def with_total(stmt: AnySelect) -> AnySelect:
    """`stmt` with the total as one more column of each row (see the module docstring)."""
    return stmt.add_columns(counted(stmt).scalar_subquery().label(TOTAL))


class PageQuery:
    """The page and count statements of one list.

    A template (the default) is built once, for every request of one filter combination: what
    a request varies (the caller's schools, filter values, the page) are named bind
    parameters. Its compiled form is then found by identity (`fixed` in compiled.py), so build
    templates in a cached function of the filter combination, never per request. A list built
    per request (its values in the statement) passes `template=False`.

    `per_row` adds columns that cost a lookup per row (a correlated subquery: a user's
    schools): given the page's columns it returns the extra ones, computed for the page's rows
    only and left out of the count. `order` must then be among the selected columns.

    `parts`, for a filter no one index walks in `order` (an OR of cases: a reader's own posts or
    the program's): selects of the unique last column of `order`, disjoint, together exactly
    the rows `stmt` selects, each walkable in `order` by an index. The page then takes the
    first `offset + limit` of each part and sorts those, and the count counts each part up to
    its cap, instead of walking every row in `order` and testing each. `stmt` then only
    gives a row's columns (its joins included): the rows are the parts', and it need not
    filter them again."""

    def __init__(
        self,
        stmt: AnySelect,
        order: Sequence[Any],
        per_row: Callable[[Any], list[Any]] | None = None,
        *,
        template: bool = True,
        parts: Sequence[AnySelect] = (),
    ) -> None:
        """`stmt` selects the rows (unordered); `order` is the columns that order them stably
        (ending with a unique one)."""
        limit, offset = bindparam(LIMIT, type_=Integer), bindparam(OFFSET, type_=Integer)
        count = counted(stmt) if not parts else _counted_parts(parts)
        rows = stmt if not parts else stmt.where(_first_of_parts(order, parts, limit + offset))
        page = (
            rows.add_columns(count.scalar_subquery().label(TOTAL))
            .order_by(*order)
            .limit(limit)
            .offset(offset)
        )
        if per_row is not None:
            # The page first, then the lookups for its rows only, outside the ordered scan:
            # on PostgreSQL a 50-row staff page took 180-210 µs of server CPU this way against
            # 310-330 µs with the lookups in the page's own select list.
            cut = page.subquery("page")
            page = select(*cut.c, *per_row(cut.c)).order_by(*(_on(cut, o) for o in order))
        self.page = page
        self.count = count
        self.template = template
        self.stmt, self.order, self.per_row, self.parts = stmt, order, per_row, tuple(parts)


def _first_of_parts(order: Sequence[Any], parts: Sequence[AnySelect], n: Any) -> Any:
    """The row is among the first `n` in `order` of its part (`PageQuery`'s `parts`)."""
    key = order[-1]  # unique
    firsts = [part.order_by(*order).limit(n).subquery() for part in parts]
    return key.in_(union_all(*(select(*first.c) for first in firsts)))


def _counted_parts(parts: Sequence[AnySelect]) -> AnySelect:
    """`counted` for a list read by parts: each part's rows up to `COUNT_UP_TO`, all of them
    up to it again (the parts are disjoint, so the sum is the count while under the cap)."""
    up_to = bindparam(COUNT_UP_TO, type_=Integer)
    one: ColumnElement[Any] = literal_column("1")
    each = union_all(*(select(one).select_from(part.limit(up_to).subquery()) for part in parts))
    capped = select(one).select_from(each.subquery()).limit(up_to)
    return select(func.count()).select_from(capped.subquery())


def _on(rows: Any, order: Any) -> Any:
    """An ORDER BY item of the inner select, for the same column of the derived table `rows`."""
    if isinstance(order, UnaryExpression):  # desc(column), asc(column)
        column = rows.c[order.element.key]
        return column.desc() if order.modifier is operators.desc_op else column.asc()
    return rows.c[order.key]


def search_text(text: str) -> str:
    """What a search for `text` binds for `contains_param`: the text lowercased."""
    return text.lower()


def contains_param(column: Any, name: str) -> ColumnElement[bool]:
    """`column` contains, ignoring case, the text whose `search_text` is bound to `name`."""
    return found(bindparam(name), column)
