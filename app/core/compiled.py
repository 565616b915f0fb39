"""Running SQLAlchemy-built statements on the bare driver: the one module that touches
SQLAlchemy's internals.

Statements are built with SQLAlchemy as everywhere else and compiled by it, once per statement
shape. What this module does instead of SQLAlchemy's execution layer is bind the parameters and
turn the driver's rows into dicts, because on the bench machine SQLAlchemy's async execution cost
about 1 ms of CPU per statement, three times the driver's own (bench/README.md). For that it uses
parts of SQLAlchemy that are not its documented API:

- `ClauseElement._generate_cache_key()`: a statement built per request finds its compiled form
  by SQLAlchemy's own cache key (its public users are the engine's compiled cache);
- `SQLCompiler._bind_processors`: how each bound value is converted for the driver (UUID to hex
  on SQLite, the UTC checks of UTCDateTime);
- the compiled statement's `positiontup`, `bind_names`, `post_compile_params`,
  `literal_execute_params` and `escaped_bind_names`, to decide whether its SQL is final;
- `Select._distinct` and `Select._group_by_clauses` (`shapes_rows`), for counting a list;
- `ClauseElement._deannotate()` (`rows_to_count`), to compare a joined ORM entity's table
  with the table its columns name;
- `ClassManager.new_instance()` (`loaded`, for `writes.as_model`): a table model made from a
  row as the ORM's own loading makes one, without the model's `__init__` (which sets each
  column through the instrumented attributes: about 55 us for a team on the bench machine,
  3 us this way).

Public API is used for the rest (`compile`, `construct_params`, `construct_expanded_state`,
`TypeEngine.result_processor`). `construct_expanded_state` writes a statement's IN lists out
at each call; it is asked once per count of values instead, with a marker object standing for
each value (`Expansion`), and a test holds the result to what SQLAlchemy itself would send.
`TESTED_SQLALCHEMY` names the releases this was checked against; a test fails on any other, so
an upgrade is a deliberate step (see `pyproject.toml`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from pydantic_core import from_json
from sqlalchemy import (
    JSON,
    BinaryExpression,
    Boolean,
    BooleanClauseList,
    FromClause,
    Join,
    Uuid,
    literal_column,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ColumnElement, operators, visitors
from sqlalchemy.sql.compiler import SQLCompiler

from app.core.sql import AnySelect, AnyStatement

# [from, to) as (major, minor, patch): the SQLAlchemy releases this module was written and tested
# for. Keep in step with the pin in pyproject.toml.
TESTED_SQLALCHEMY = ((2, 1, 9), (2, 2, 0))

Convert = Callable[[Any], Any]
M = TypeVar("M")
Row = dict[str, Any]
StatementListener = Callable[[str, Any], None]  # (SQL, the driver's parameters)

CACHE_SIZE = 500


RowToDict = Callable[[Sequence[Any]], Row]


def _row_to_dict(keys: Sequence[str], converters: Sequence[Convert | None]) -> RowToDict:
    """A function turning one driver row into a dict, converting the columns that need it.

    Generated once per statement shape (as dataclasses generate `__init__`): one dict display
    runs in a fraction of the time of copying each row to a list, converting in place and
    zipping it with the keys, and a page of fifty rows calls it fifty times. Only column
    positions, `repr()`-quoted labels and converter names go into the source."""
    namespace: dict[str, Any] = {"__builtins__": {}}
    items = []
    for i, (key, convert) in enumerate(zip(keys, converters, strict=True)):
        if convert is None:
            items.append(f"{key!r}: r[{i}]")
        else:
            namespace[f"c{i}"] = convert
            items.append(f"{key!r}: c{i}(r[{i}])")
    return cast(RowToDict, eval(f"lambda r: {{{', '.join(items)}}}", namespace))


@dataclass(frozen=True)
class Shape:
    """One compiled statement shape: its SQL, how to bind its parameters, and how to turn the
    driver's rows into dicts of typed or raw values."""

    compiled: SQLCompiler
    source: AnyStatement | None  # the statement itself, for fixed statements
    # The compiled statement's bind processors (UUID to hex on SQLite, UTCDateTime's checks).
    processors: Mapping[str, Convert]
    # (name, bind processor) in the driver's order, when no parameter changes the SQL at
    # execution time (no expanding IN); None otherwise.
    binds: tuple[tuple[str, Convert | None], ...] | None
    positional: bool
    typed: RowToDict
    raw: RowToDict
    # The expanding IN parameters (`bindparam(..., expanding=True)`), when they are all that
    # changes the SQL at execution time, and the SQL each count of their values gives.
    expanding: tuple[str, ...] = ()
    expansions: dict[tuple[int, ...], Expansion] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Expansion:
    """A statement's SQL with its expanding IN parameters written out for one count of values
    each, and where each of the driver's parameters comes from: (its name in the SQL, the
    statement's parameter, the position in that parameter's list or -1, bind processor)."""

    sql: str
    binds: tuple[tuple[str, str, int, Convert | None], ...]


EXPANSIONS = 32  # counts of values remembered per statement (e.g. a caller's 1-5 schools)


def _utc_from_sqlite(value: Any) -> Any:
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _utc_text_from_sqlite(value: Any) -> Any:
    # "2026-11-22 15:00:00.000000" (naive UTC, as UTCDateTime stores it) -> an ISO string in UTC.
    return None if value is None else value + "Z"


def _uuid_from_hex(value: Any) -> Any:
    return None if value is None else uuid.UUID(hex=value)


def _json_from_text(value: Any) -> Any:
    # pydantic-core's parser: the same values as the standard library's, in a quarter of the
    # time (a page of 50 rows parses one to three documents a row).
    return None if value is None else from_json(value)


def _bool_from_int(value: Any) -> Any:
    return None if value is None else bool(value)


def _converters(column_type: Any, dialect: Dialect) -> tuple[Convert | None, Convert | None]:
    """(typed, raw) converters for one result column of this dialect's driver."""
    from app.core.db import UTCDateTime  # db.py imports this module

    if dialect.name == "postgresql":
        # psycopg returns UUIDs, aware datetimes (the connections run in UTC), parsed JSON and
        # bools itself.
        if isinstance(column_type, UTCDateTime | Uuid | JSON | Boolean):
            return None, None
    elif dialect.name == "sqlite":
        if isinstance(column_type, UTCDateTime):
            return _utc_from_sqlite, _utc_text_from_sqlite
        if isinstance(column_type, Uuid):
            return _uuid_from_hex, None
        if isinstance(column_type, JSON):
            return _json_from_text, _json_from_text
        if isinstance(column_type, Boolean):
            return _bool_from_int, _bool_from_int
    # Anything else: SQLAlchemy's own result processing for the type (None for plain strings
    # and numbers, which the drivers already return as Python values).
    process = column_type.dialect_impl(dialect).result_processor(dialect, None)
    return process, process


class StatementCache:
    """Compiled statements by SQLAlchemy cache key, with their parameters filled in per call."""

    def __init__(self, dialect: Dialect, size: int = CACHE_SIZE) -> None:
        self.dialect = dialect
        self.size = size
        self._shapes: dict[Any, Shape] = {}
        # Statements found by SQLAlchemy's cache key (built per call) rather than by identity
        # (templates): tests hold the hot reads to none.
        self.keyed = 0

    def _shape(self, stmt: AnyStatement, key: Any, *, fixed: bool = False) -> Shape:
        compiled = stmt.compile(dialect=self.dialect, cache_key=key)
        assert isinstance(compiled, SQLCompiler)
        # A select's columns, or what an INSERT, UPDATE or DELETE returns (none without
        # RETURNING).
        columns = stmt.exported_columns
        pairs = [_converters(c.type, self.dialect) for c in columns]
        keys = tuple(map(str, columns.keys()))
        processors = cast(Mapping[str, Convert], compiled._bind_processors)
        binds = None
        expanding: tuple[str, ...] = ()
        if not (compiled.literal_execute_params or compiled.escaped_bind_names):
            if not compiled.post_compile_params:
                order = compiled.positiontup or list(compiled.bind_names.values())
                binds = tuple((name, processors.get(name)) for name in order)
            elif all(p.expanding for p in compiled.post_compile_params):
                expanding = tuple(
                    sorted(compiled.bind_names[p] for p in compiled.post_compile_params)
                )
        return Shape(
            compiled=compiled,
            source=stmt if fixed else None,
            processors=processors,
            binds=binds,
            positional=compiled.positiontup is not None,
            typed=_row_to_dict(keys, [p[0] for p in pairs]),
            raw=_row_to_dict(keys, [p[1] for p in pairs]),
            expanding=expanding,
        )

    def _key(self, stmt: AnyStatement) -> Any:
        self.keyed += 1
        return stmt._generate_cache_key()

    def _remember(self, key: Any, shape: Shape) -> None:
        if len(self._shapes) >= self.size:
            self._shapes.pop(next(iter(self._shapes)))
        self._shapes[key] = shape

    def prepare(
        self, stmt: AnyStatement, params: Mapping[str, Any] | None = None, *, fixed: bool = False
    ) -> tuple[Shape, str, Any]:
        """The statement's shape, its final SQL and the driver's parameters.

        `fixed`: the statement object is built once and reused for every call (a module-level
        or cached template) and everything that varies per call is a named bind parameter in
        `params`. Its shape is then found by the object's identity, skipping SQLAlchemy's cache
        key, whose generation and comparison cost more than running a small query."""
        if fixed:
            found = self._shapes.get(id(stmt))
            if found is None or found.source is not stmt:
                found = self._shape(stmt, None, fixed=True)
                self._remember(id(stmt), found)
            shape = found
            values = shape.compiled.construct_params(params)
        elif (key := self._key(stmt)) is None:  # not cacheable (rare): compile it
            shape = self._shape(stmt, None)
            values = shape.compiled.construct_params(params)
        else:
            shape_or_none = self._shapes.get(key.key)
            if shape_or_none is None:
                shape_or_none = self._shape(stmt, key)
                self._remember(key.key, shape_or_none)
            shape = shape_or_none
            values = shape.compiled.construct_params(params, extracted_parameters=key.bindparams)
        if shape.binds is not None:  # the SQL is final: bind the values in the driver's order
            if shape.positional:
                args: Any = tuple(
                    values[name] if proc is None else proc(values[name])
                    for name, proc in shape.binds
                )
            else:
                args = {
                    name: values[name] if proc is None else proc(values[name])
                    for name, proc in shape.binds
                }
            return shape, shape.compiled.string, args
        if shape.expanding:
            found_sql = _expanded(shape, values)
            if found_sql is not None:
                return found_sql
        state = shape.compiled.construct_expanded_state(values)
        # As SQLAlchemy's execution context does: the statement's bind processors plus those of
        # expanded IN parameters.
        processors = shape.processors
        if state.processors:
            processors = {**processors, **state.processors}
        bound = {
            name: (processors[name](value) if name in processors else value)
            for name, value in state.parameters.items()
        }
        if state.positiontup is not None:
            return shape, state.statement, tuple(bound[name] for name in state.positiontup)
        return shape, state.statement, bound


def _expanded(shape: Shape, values: Mapping[str, Any]) -> tuple[Shape, str, Any] | None:
    """A statement with expanding IN parameters, bound through the SQL its counts of values
    gave before (`Expansion`): SQLAlchemy writes the SQL out again at each execution
    (`construct_expanded_state`: 60 of a 70 us preparation on the bench machine, against 10
    for a statement without). None for what it does not handle (tuples compared IN), or when
    the statement has met too many counts: SQLAlchemy's own way then."""
    lists: dict[str, Sequence[Any]] = {}
    for name in shape.expanding:
        given = values[name]
        listed = given if isinstance(given, list | tuple) else list(given)
        if listed and isinstance(listed[0], tuple | list):
            return None
        lists[name] = listed
    counts = tuple(len(listed) for listed in lists.values())
    expansion = shape.expansions.get(counts)
    if expansion is None:
        if len(shape.expansions) >= EXPANSIONS:
            return None
        expansion = _expansion(shape, values, counts)
        shape.expansions[counts] = expansion
    if shape.positional:
        return (
            shape,
            expansion.sql,
            tuple(_value(values, lists, name, at, proc) for _, name, at, proc in expansion.binds),
        )
    named = {out: _value(values, lists, name, at, proc) for out, name, at, proc in expansion.binds}
    return shape, expansion.sql, named


def _value(
    values: Mapping[str, Any],
    lists: Mapping[str, Sequence[Any]],
    name: str,
    at: int,
    proc: Convert | None,
) -> Any:
    value = values[name] if at < 0 else lists[name][at]
    return value if proc is None else proc(value)


def _expansion(shape: Shape, values: Mapping[str, Any], counts: tuple[int, ...]) -> Expansion:
    """Let SQLAlchemy write the SQL out for these counts of values, with a marker object for
    each value: where each marker lands says where each of the driver's parameters comes
    from."""
    sources: dict[int, tuple[str, int]] = {}
    markers: dict[str, Any] = {}
    for name in values:
        if name in shape.expanding:
            count = counts[shape.expanding.index(name)]
            markers[name] = [object() for _ in range(count)]
            for at, marker in enumerate(markers[name]):
                sources[id(marker)] = (name, at)
        else:
            markers[name] = object()
            sources[id(markers[name])] = (name, -1)
    state = shape.compiled.construct_expanded_state(markers)
    processors = {**shape.processors, **(state.processors or {})}
    order = state.positiontup if state.positiontup is not None else list(state.parameters)
    binds = tuple((out, *sources[id(state.parameters[out])], processors.get(out)) for out in order)
    return Expansion(state.statement, binds)


def to_dicts(shape: Shape, rows: Sequence[Sequence[Any]], raw: bool) -> list[Row]:
    return list(map(shape.raw if raw else shape.typed, rows))


def shapes_rows(stmt: AnySelect) -> bool:
    """Whether the select's columns decide its rows (DISTINCT, GROUP BY), so that a count of
    its rows must keep them."""
    return bool(stmt._distinct or stmt._group_by_clauses)


def rows_to_count(stmt: AnySelect) -> AnySelect:
    """`SELECT 1` for each row `stmt` selects (a list's filter: FROM, joins and WHERE, each row
    one item), without the joins that cannot change how many rows it selects: a join to one
    row by its primary key from a foreign key that is never null (an inner join; any foreign
    key for an outer one), whose table nothing else in the statement (the WHERE, a join kept)
    names."""
    one: ColumnElement[Any] = literal_column("1")
    froms = stmt.get_final_froms()
    if len(froms) == 1 and isinstance(froms[0], Join):
        pruned = _pruned(froms[0], _tables_in(stmt.whereclause))
        if pruned is not froms[0]:
            rows = select(one).select_from(pruned)
            return rows if stmt.whereclause is None else rows.where(stmt.whereclause)
    return stmt.with_only_columns(one, maintain_column_froms=True)


def _pruned(join: FromClause, used: set[FromClause]) -> FromClause:
    """The join tree without its lookups (see `rows_to_count`), outermost first: a join
    kept keeps the tables its ON clause names."""
    if not isinstance(join, Join):
        return join
    if _plain(join.right) not in used and _one_row_of(join):
        return _pruned(join.left, used)
    kept_left = _pruned(join.left, used | _tables_in(join.onclause))
    if kept_left is join.left:
        return join
    return kept_left.join(join.right, join.onclause, isouter=join.isouter, full=join.full)


def _one_row_of(join: Join) -> bool:
    """Whether each row of the join's left side meets exactly one row of its right side (at
    most one for an outer join, which keeps the row either way)."""
    on, key = join.onclause, list(join.right.primary_key)
    if join.full:
        return False
    if join.isouter and _pins_key(join):
        return True
    if not isinstance(on, BinaryExpression) or on.operator is not operators.eq:
        return False
    if len(key) != 1:  # part of a composite key: one row may meet several
        return False
    right = _plain(join.right)
    for pk, fk in ((on.left, on.right), (on.right, on.left)):
        if _plain(getattr(pk, "table", None)) is not right or not pk.shares_lineage(key[0]):
            continue
        if _plain(getattr(fk, "table", None)) is right:
            continue
        references = any(f.column.shares_lineage(pk) for f in getattr(fk, "foreign_keys", ()))
        if references and (join.isouter or getattr(fk, "nullable", True) is False):
            return True
    return False


def _pins_key(join: Join) -> bool:
    """Whether the ON clause's terms (ANDed) include equalities that set every column of the
    right side's primary key to something not of the right side (another table's column, a
    parameter): at most one row of the right side meets each row of the left."""
    right, key = _plain(join.right), list(join.right.primary_key)
    on = join.onclause
    terms = [on]
    if isinstance(on, BooleanClauseList) and on.operator is operators.and_:
        terms = list(on.clauses)
    pinned: set[Any] = set()
    for term in terms:
        if not isinstance(term, BinaryExpression) or term.operator is not operators.eq:
            continue
        for side, value in ((term.left, term.right), (term.right, term.left)):
            if _plain(getattr(side, "table", None)) is right and right not in _tables_in(value):
                pinned.update(k for k in key if side.shares_lineage(k))
    return bool(key) and len(pinned) == len(key)


def _tables_in(clause: Any) -> set[FromClause]:
    """The tables (and aliases) whose columns `clause` names, in subqueries too."""
    if clause is None:
        return set()
    return {
        _plain(table)
        for element in visitors.iterate(clause)
        if (table := getattr(element, "table", None)) is not None
    }


def _plain(table: Any) -> Any:
    """The table or alias itself, without the ORM's annotations (a joined entity's table is
    an annotated copy; its columns name the table itself)."""
    return None if table is None else table._deannotate()


def loaded(model: type[M], values: Mapping[str, Any]) -> M:
    """An instance of the table model `model` holding `values` (every column, as read from the
    database: nothing is validated), made as the ORM makes a loaded one, but transient, as
    `model(**values)` is: no session knows it and nothing of it counts as changed."""
    instance = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    instance.__dict__.update(values)
    return cast(M, instance)


def is_tested(version: str) -> bool:
    """Whether this SQLAlchemy release is in TESTED_SQLALCHEMY."""
    numbers = tuple(int(part) for part in version.split(".")[:3] if part.isdigit())
    low, high = TESTED_SQLALCHEMY
    return low <= numbers < high
