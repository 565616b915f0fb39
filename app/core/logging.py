"""Structured logs: one JSON object per line."""

import json
import logging
import sys
from datetime import UTC, datetime

from pydantic_core import PydanticSerializationError, to_json

_STD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time, level, logger, message, then the record's `extra`
    fields (a value JSON has no type for written as its `str`). Serialised by pydantic-core:
    every request writes an access line, and `json.dumps` took 9 of the line's 23 us on the
    bench machine (`to_json`: under 2); what it cannot write (bytes that are not UTF-8) goes
    through `json.dumps` as before."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        try:
            return to_json(out, fallback=str).decode()
        except PydanticSerializationError:
            return json.dumps(out, default=str)


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
