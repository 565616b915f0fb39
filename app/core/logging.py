"""Structured logs: one JSON object per line.

Every request writes an access line (`AccessLog`). Through `logging` a line cost the worker
about 44 us of CPU inside a whole request on the bench machine (15 in a loop of nothing else):
a `LogRecord` built and dispatched, then formatted, then written with a system call.
`AccessLog` formats the same line itself and writes it to the handler `configure_logging`
installed, whenever that handler is the only place the line would go (no handler or filter
added to the access logger or its parent, which does not pass records up); anything else (a
test's handler, pytest's log capture, a deployment's logging configuration) gets the line
through `logging` as before.
"""

import asyncio
import atexit
import json
import logging
import select
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic_core import PydanticSerializationError, to_json

_STD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _line(out: Mapping[str, Any]) -> str:
    """One line of JSON (no newline). Serialised by pydantic-core: `json.dumps` took 9 of the
    line's 23 us on the bench machine (`to_json`: under 2); what it cannot write (bytes that
    are not UTF-8) goes through `json.dumps`, and what JSON has no type for is written as its
    `str`."""
    try:
        return to_json(out, fallback=str).decode()
    except PydanticSerializationError:
        return json.dumps(out, default=str)


def _head(created: float, levelname: str, name: str, message: str) -> dict[str, Any]:
    return {
        "ts": datetime.fromtimestamp(created, UTC).isoformat(),
        "level": levelname.lower(),
        "logger": name,
        "msg": message,
    }


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time, level, logger, message, then the record's `extra`
    fields."""

    def format(self, record: logging.LogRecord) -> str:
        out = _head(record.created, record.levelname, record.name, record.getMessage())
        for key, value in record.__dict__.items():
            if key not in _STD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return _line(out)


# The most one write holds: whole lines, at most PIPE_BUF bytes, which a pipe takes in one piece,
# so several workers writing to one pipe (a container's log) never interleave inside a line.
WRITE_AT_ONCE = select.PIPE_BUF


class AccessLog:
    """The access line of each request, at INFO on `logger` (see the module docstring): the
    same line `logger.info(message, extra=fields)` writes through a `JsonFormatter`.

    On the direct path a request only notes its line; the lines a turn of the event loop
    noted are formatted and written together at the start of the next turn (and at exit), in
    writes of whole lines of at most `WRITE_AT_ONCE` bytes (a pipe shared by several workers
    takes each write whole). Formatted inside each request a line cost about 23 us there;
    noted and written a turn's worth at a time, 5-6 us a line with 8-32 lines a turn (one
    system call a turn instead of one a line, and the worker's caches warm for the
    formatting). A line waits at most that turn (a worker killed outright loses that turn's
    lines); its `ts` is the moment it was noted."""

    def __init__(self, logger: logging.Logger, message: str = "request") -> None:
        self.logger = logger
        self.message = message
        self._pending: list[tuple[float, Mapping[str, Any]]] = []
        self._to: logging.StreamHandler[Any] | None = None  # where the pending lines go
        self._due: asyncio.AbstractEventLoop | None = None  # the loop a flush is due on
        atexit.register(self.flush)

    def _only_handler(self) -> logging.StreamHandler[Any] | None:
        """The handler the line would reach, when it is the only thing the line would meet:
        the logger has no handler or filter of its own and passes records to its parent,
        which has one plain JSON stream handler, no filter, and passes nothing further up."""
        logger = self.logger
        parent = logger.parent
        if logger.handlers or logger.filters or not logger.propagate or parent is None:
            return None
        if parent.propagate or parent.filters or len(parent.handlers) != 1:
            return None
        (handler,) = parent.handlers
        if (
            type(handler) is not logging.StreamHandler
            or type(handler.formatter) is not JsonFormatter
            or handler.filters
            or handler.level > logging.INFO
        ):
            return None
        return handler

    def write(self, fields: Mapping[str, Any]) -> None:
        """Log one request's line (`fields`: its values, not changed afterwards)."""
        logger = self.logger
        if not logger.isEnabledFor(logging.INFO):
            return
        handler = self._only_handler()
        if handler is not self._to:  # the configuration changed: what was noted goes first
            self.flush()
            self._to = handler
        if handler is None:
            logger.info(self.message, extra=dict(fields))
            return
        self._pending.append((time.time(), fields))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop: now
            self.flush()
            return
        if self._due is not loop:  # (a loop closed before its flush ran is not waited for)
            loop.call_soon(self.flush)
            self._due = loop

    def flush(self) -> None:
        """Write the lines noted so far."""
        pending, self._pending = self._pending, []
        self._due = None
        handler = self._to
        if not pending or handler is None:
            return
        name, message = self.logger.name, self.message
        chunks: list[list[str]] = [[]]
        size = 0
        for created, fields in pending:
            out = _head(created, "INFO", name, message)
            out.update(fields)
            line = _line(out) + handler.terminator
            length = len(line) if line.isascii() else len(line.encode())
            if size + length > WRITE_AT_ONCE and chunks[-1]:
                chunks.append([])
                size = 0
            chunks[-1].append(line)
            size += length
        handler.acquire()
        try:
            for chunk in chunks:
                text = "".join(chunk)
                try:
                    handler.stream.write(text)
                    handler.flush()
                except Exception:  # as StreamHandler.emit: reported, the requests unharmed
                    record = self.logger.makeRecord(name, logging.INFO, "", 0, text, (), None)
                    handler.handleError(record)
        finally:
            handler.release()


def configure_logging(level: str = "INFO") -> None:
    # Every request writes an access line: skip what a record would collect and no line shows
    # (the caller's frame, thread and process names), as the logging HOWTO's "Optimization"
    # section describes. About 15 of 45 us per line on the bench machine.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger("peercoach")
    root.setLevel(level.upper())
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
