"""The access line of each request (app/core/logging.py `AccessLog`): written directly when
the configured JSON handler is the only place it would go, through `logging` otherwise, and
the same line either way."""

import asyncio
import io
import json
import logging
import uuid

import pytest

from app.core.logging import WRITE_AT_ONCE, AccessLog, JsonFormatter, configure_logging

FIELDS = {
    "method": "GET",
    "path": "/api/v1/me",
    "status": 200,
    "duration_ms": 0.42,
    "user_id": str(uuid.uuid4()),
    "request_id": uuid.uuid4().hex,
}


class Counting(io.StringIO):
    """A stream that keeps the writes it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.given: list[str] = []

    @property
    def writes(self) -> int:
        return len(self.given)

    def write(self, text: str) -> int:
        self.given.append(text)
        return super().write(text)


@pytest.fixture
def hierarchy():
    """A parent logger with one JSON stream handler, not passing records up, as
    `configure_logging` sets up "peercoach"; and its access logger."""
    name = f"accesstest{uuid.uuid4().hex[:8]}"
    parent = logging.getLogger(name)
    stream = Counting()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    parent.addHandler(handler)
    parent.setLevel(logging.INFO)
    parent.propagate = False
    child = logging.getLogger(f"{name}.access")

    yield child, stream
    parent.removeHandler(handler)


def _alone(parent: logging.Logger, handler: logging.Handler) -> None:
    """Take pytest's capture handlers off a logger that does not propagate (pytest adds them
    at each phase of a test; with them there, the line rightly goes through `logging`)."""
    for other in list(parent.handlers):
        if other is not handler:
            parent.removeHandler(other)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _without_ts(entry: dict) -> dict:
    assert entry.pop("ts").endswith("+00:00")
    return entry


def test_the_direct_line_is_the_line_logging_writes(hierarchy):
    logger, stream = hierarchy
    _alone(logger.parent, logger.parent.handlers[0])
    log = AccessLog(logger)
    assert log._only_handler() is logger.parent.handlers[0]
    log.write(FIELDS)
    log.flush()
    logger.info("request", extra=dict(FIELDS))  # what the handler writes through logging
    direct, through_logging = _lines(stream)
    assert _without_ts(direct) == _without_ts(through_logging)
    assert direct == {"level": "info", "logger": logger.name, "msg": "request", **FIELDS}


def test_a_turn_of_the_event_loop_writes_its_lines_at_once_in_order(hierarchy):
    logger, stream = hierarchy
    _alone(logger.parent, logger.parent.handlers[0])
    log = AccessLog(logger)

    async def serve() -> None:
        for n in range(5):
            log.write({**FIELDS, "status": 200 + n})
        assert stream.getvalue() == ""  # noted, not written yet
        await asyncio.sleep(0)  # the next turn
        assert [e["status"] for e in _lines(stream)] == [200, 201, 202, 203, 204]
        assert stream.writes == 1
        log.write(FIELDS)
        await asyncio.sleep(0)
        assert len(_lines(stream)) == 6
        assert stream.writes == 2

    asyncio.run(serve())


def test_a_turn_s_lines_are_written_whole_a_pipe_s_worth_at_a_time(hierarchy):
    """Several workers share one stderr (a container's log pipe): a pipe takes a write of up to
    PIPE_BUF bytes whole, so each write is whole lines within that."""
    logger, stream = hierarchy
    _alone(logger.parent, logger.parent.handlers[0])
    log = AccessLog(logger)

    async def serve() -> None:
        for n in range(100):  # about 30 KB of lines, one of them not ASCII
            log.write({**FIELDS, "status": n, "path": "/api/v1/é" if n == 50 else "/x"})
        await asyncio.sleep(0)

    asyncio.run(serve())
    assert [e["status"] for e in _lines(stream)] == list(range(100))
    assert stream.writes > 5
    for text in stream.given:
        assert len(text.encode()) <= WRITE_AT_ONCE
        assert text.startswith("{")
        assert text.endswith("}\n")


def test_without_an_event_loop_the_line_is_written_at_once(hierarchy):
    logger, stream = hierarchy
    _alone(logger.parent, logger.parent.handlers[0])
    AccessLog(logger).write(FIELDS)
    assert _lines(stream)[0]["request_id"] == FIELDS["request_id"]


def test_another_configuration_gets_the_line_through_logging_after_what_was_noted(hierarchy):
    logger, stream = hierarchy
    _alone(logger.parent, logger.parent.handlers[0])
    log = AccessLog(logger)
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    extra = Keep()

    async def serve() -> None:
        log.write({**FIELDS, "status": 201})  # noted on the direct path, not written yet
        assert stream.getvalue() == ""
        logger.addHandler(extra)  # e.g. a test's or a deployment's handler, in the same turn
        assert log._only_handler() is None
        log.write({**FIELDS, "status": 202})

    try:
        asyncio.run(serve())
    finally:
        logger.removeHandler(extra)
    assert [e["status"] for e in _lines(stream)] == [201, 202]  # in order, nothing lost
    assert [r.status for r in seen] == [202]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "change",
    ["filter on the logger", "parent propagates", "second handler", "other formatter", "level"],
)
def test_anything_but_the_plain_configuration_goes_through_logging(hierarchy, change):
    logger, _ = hierarchy
    _alone(logger.parent, logger.parent.handlers[0])
    parent = logger.parent
    handler = parent.handlers[0]
    undo = []
    if change == "filter on the logger":
        f = logging.Filter("nothing")
        logger.addFilter(f)
        undo.append(lambda: logger.removeFilter(f))
    elif change == "parent propagates":
        parent.propagate = True
        undo.append(lambda: setattr(parent, "propagate", False))
    elif change == "second handler":
        h = logging.NullHandler()
        parent.addHandler(h)
        undo.append(lambda: parent.removeHandler(h))
    elif change == "other formatter":
        old = handler.formatter
        handler.setFormatter(logging.Formatter("%(message)s"))
        undo.append(lambda: handler.setFormatter(old))
    else:
        handler.setLevel(logging.WARNING)
        undo.append(lambda: handler.setLevel(logging.NOTSET))
    try:
        assert AccessLog(logger)._only_handler() is None
    finally:
        for step in undo:
            step()
    assert AccessLog(logger)._only_handler() is handler


def test_below_info_nothing_is_noted(hierarchy):
    logger, stream = hierarchy
    _alone(logger.parent, logger.parent.handlers[0])
    logger.parent.setLevel(logging.WARNING)
    log = AccessLog(logger)
    log.write(FIELDS)
    log.flush()
    assert stream.getvalue() == ""


def test_a_stream_that_fails_is_reported_and_the_next_lines_still_written(hierarchy, capsys):
    logger, stream = hierarchy
    _alone(logger.parent, logger.parent.handlers[0])
    handler = logger.parent.handlers[0]
    good = handler.stream

    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError("disk full")

    handler.setStream(Broken())
    log = AccessLog(logger)
    log.write(FIELDS)
    log.flush()  # no exception: reported as logging reports a failed emit
    assert "disk full" in capsys.readouterr().err
    handler.setStream(good)
    log.write(FIELDS)
    log.flush()
    assert len(_lines(stream)) == 1


def test_the_app_s_own_configuration_takes_the_direct_path(settings):
    from app.core import middleware
    from app.main import create_app

    create_app(settings)
    configure_logging("INFO")
    peercoach = logging.getLogger("peercoach")
    (installed,) = [h for h in peercoach.handlers if type(h.formatter) is JsonFormatter]
    _alone(peercoach, installed)
    assert middleware.access_log._only_handler() is installed
