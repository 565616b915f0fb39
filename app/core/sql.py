"""SQL constructs that compile differently per engine (lists inside a row), and constants.

A row of a list or a record often carries a list of its own (an event's participants, a user's
schools). Reading it in the same statement keeps a response to one statement and one snapshot
(core/reads.py), and costs one correlated lookup per row of the page. Both constructs are
correlated subqueries: write the inner select as if the outer row's columns were in scope
(`where(EventParticipant.event_id == Event.id)`), with the order the list should have.

- `collected(select of one column)`: a list of values.
- `nested(select of named columns)`: a list of objects, keyed by the columns' names, ready to be
  validated into a schema (`list[MemberRef]`).
- `json_object(id=User.id, ...)`: one object made of columns of the row itself (a joined
  requester as a `MemberRef`), no lookup.

Both read as JSON-typed columns: PostgreSQL's driver returns arrays and JSON already parsed,
SQLite's JSON text is parsed by the read path's converters (compiled.py).

`constant(InvitationStatus.pending)`: a fixed value written into the SQL instead of bound, for a
comparison that a partial index's predicate names (`WHERE status = 'pending'`). Bound, the value
is unknown when the statement is planned: SQLite then plans it again at every execution to see
whether the index applies (a team's read spent 85 of its 100 µs re-planning), and PostgreSQL's
generic plan for a prepared statement cannot use the index at all.

`found(text, column)`: whether the column, lowercased, contains the bound text, by position
(`instr` on SQLite, `strpos` on PostgreSQL) rather than `LIKE '%text%'`: SQLite plans a
statement whose LIKE pattern is bound again at every execution (to see whether the pattern's
prefix could use an index, which a "contains" pattern never can), and the pattern would need
its `%` and `_` escaped.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeAlias

from sqlalchemy import JSON, Boolean, String, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped
from sqlalchemy.sql import ColumnElement, Delete, Insert, Select, Update
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

# Any select, whatever its columns (Select is generic over the types of all its columns).
AnySelect: TypeAlias = Select[*tuple[Any, ...]]
# What a write transaction runs (writes.py): a select, or an INSERT, UPDATE or DELETE (with
# RETURNING or not).
AnyStatement: TypeAlias = Select[*tuple[Any, ...]] | Insert | Update | Delete


class _Listed(ColumnElement[Any]):
    inherit_cache = True
    _traverse_internals = [("stmt", InternalTraversal.dp_clauseelement)]  # part of the cache key
    type = JSON()

    def __init__(self, stmt: AnySelect) -> None:
        self.stmt = stmt


class Collected(_Listed):
    """See `collected`."""

    inherit_cache = True


class Nested(_Listed):
    """See `nested`."""

    inherit_cache = True


class JsonObject(ColumnElement[Any]):
    """See `json_object`."""

    inherit_cache = True
    _traverse_internals = [
        ("names", InternalTraversal.dp_string_list),
        ("values", InternalTraversal.dp_clauseelement_list),
    ]
    type = JSON()

    def __init__(self, fields: dict[str, Any]) -> None:
        self.names = list(fields)
        self.values = list(fields.values())

    @property
    def _from_objects(self) -> list[Any]:  # the tables its columns come from
        return [f for value in self.values for f in value._from_objects]


class Found(ColumnElement[bool]):
    """See `found`."""

    inherit_cache = True
    _traverse_internals = [
        ("text", InternalTraversal.dp_clauseelement),
        ("column", InternalTraversal.dp_clauseelement),
    ]
    type = Boolean()

    def __init__(self, text: ColumnElement[Any], column: ColumnElement[Any]) -> None:
        self.text = text
        self.column = column

    @property
    def _from_objects(self) -> list[Any]:
        return list(self.column._from_objects)


def found(text: ColumnElement[Any], column: Any) -> Found:
    """Whether `column`, lowercased, contains `text` (already lowercased; usually a bind
    parameter). See the module docstring."""
    return Found(text, column)


@compiles(Found, "postgresql")
def _found_postgresql(element: Found, compiler: SQLCompiler, **kw: Any) -> str:
    text, column = compiler.process(element.text, **kw), compiler.process(element.column, **kw)
    return f"strpos(lower({column}), {text}) > 0"


@compiles(Found)
def _found_sqlite(element: Found, compiler: SQLCompiler, **kw: Any) -> str:
    text, column = compiler.process(element.text, **kw), compiler.process(element.column, **kw)
    return f"instr(lower({column}), {text}) > 0"


def constant(value: StrEnum) -> ColumnElement[str]:
    """The enum's value as an SQL literal (see the module docstring): only a value of the
    code's own enums, never a caller's, goes into the SQL."""
    text = value.value
    if not text.isidentifier():  # quoted as is, so nothing that needs escaping
        raise ValueError(f"{text!r} is not a plain name")
    return literal_column(f"'{text}'", String())


def json_object(**fields: ColumnElement[Any] | Mapped[Any]) -> JsonObject:
    """One JSON object of columns of the current row, keyed by the argument names."""
    return JsonObject(fields)


def collected(stmt: AnySelect) -> Collected:
    """The values of a one-column select (usually correlated, in its order) as one list."""
    if len(stmt.selected_columns) != 1:
        raise ValueError("collected() takes a select of one column")
    return Collected(stmt)


def nested(stmt: AnySelect) -> Nested:
    """The rows of a select (usually correlated, in its order) as one list of objects, keyed by
    the selected columns' names."""
    return Nested(stmt)


def _inner(element: _Listed, compiler: SQLCompiler, **kw: Any) -> str:
    # Rendered where the outer select's tables are in scope, so SQLAlchemy correlates the inner
    # select with them as it does any subquery in a column list; the engine-specific aggregate
    # is then wrapped around it as a derived table (rows aggregate in the derived table's order).
    return compiler.process(element.stmt.scalar_subquery(), **kw)


@compiles(Collected, "postgresql")
def _collected_postgresql(element: Collected, compiler: SQLCompiler, **kw: Any) -> str:
    # A native array, sent binary: measured on a 50-row staff page, 180-210 µs of server CPU
    # against 310-330 µs for `string_agg` of the values cast to text.
    return f"ARRAY{_inner(element, compiler, **kw)}"


@compiles(Nested, "postgresql")
def _nested_postgresql(element: Nested, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(SELECT coalesce(json_agg(q), '[]') FROM {_inner(element, compiler, **kw)} AS q)"


@compiles(JsonObject, "postgresql")
def _object_postgresql(element: JsonObject, compiler: SQLCompiler, **kw: Any) -> str:
    pairs = ", ".join(
        f"'{_checked(name)}', {compiler.process(value, **kw)}"
        for name, value in zip(element.names, element.values, strict=True)
    )
    return f"json_build_object({pairs})"


@compiles(JsonObject)
def _object_sqlite(element: JsonObject, compiler: SQLCompiler, **kw: Any) -> str:
    pairs = ", ".join(
        f"'{_checked(name)}', {_sqlite_json_value(compiler.process(value, **kw), value.type)}"
        for name, value in zip(element.names, element.values, strict=True)
    )
    return f"json_object({pairs})"


def _sqlite_json_value(column: str, column_type: Any) -> str:
    """The SQL turning one stored SQLite value (the SQL expression `column`) into the JSON
    value a schema validates."""
    from app.core.db import UTCDateTime  # db.py imports the read path

    if isinstance(column_type, UTCDateTime):  # naive UTC text -> ISO 8601 in UTC
        return f"CASE WHEN {column} IS NULL THEN NULL ELSE replace({column}, ' ', 'T') || 'Z' END"
    if isinstance(column_type, Boolean):
        return f"json(CASE {column} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)"
    if isinstance(column_type, JSON):  # stored as JSON text: embed it, not a string of it
        return f"json({column})"
    return column  # text, numbers and UUIDs (32 hex digits, which schemas parse)


@compiles(Collected)
def _collected_sqlite(element: Collected, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.stmt.selected_columns
    value = _sqlite_json_value(_derived(column), column.type)
    inner = _inner(element, compiler, **kw)
    return f"(SELECT json_group_array({value}) FROM {inner} AS q)"


@compiles(Nested)
def _nested_sqlite(element: Nested, compiler: SQLCompiler, **kw: Any) -> str:
    pairs = ", ".join(
        f"'{_name(c)}', {_sqlite_json_value(_derived(c), c.type)}"
        for c in element.stmt.selected_columns
    )
    inner = _inner(element, compiler, **kw)
    return f"(SELECT json_group_array(json_object({pairs})) FROM {inner} AS q)"


def _derived(column: Any) -> str:
    """The column as a column of the derived table `q`."""
    return f'q."{_name(column)}"'


def _name(column: Any) -> str:
    return _checked(str(column.key))


def _checked(name: str) -> str:
    if not name.isidentifier():  # it is written into the SQL
        raise ValueError(f"name the nested column {name!r} with label()")
    return name
