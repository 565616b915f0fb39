"""The error format, security headers, limits and the request middleware."""

import json
import logging
import os
import uuid
from datetime import UTC, datetime

import pytest
from fastapi import APIRouter

from app.core import middleware
from app.core.errors import PROBLEM_JSON


def assert_problem(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body = r.json()
    assert body["status"] == status
    assert body["type"].startswith("https://peercoach.dev/problems/")
    assert body["title"]
    assert body["request_id"] == r.headers["x-request-id"]
    return body


def test_unknown_route_is_a_problem(client):
    body = assert_problem(client.get("/api/v1/nowhere"), 404)
    assert body["instance"] == "/api/v1/nowhere"


def test_wrong_method_is_a_problem(client, world, auth):
    assert_problem(client.put("/api/v1/schools", headers=auth(world.district_admin)), 405)


def test_malformed_json_is_422_with_field(client, world, auth):
    r = client.post(
        "/api/v1/schools",
        content=b'{"name": "x",',
        headers={**auth(world.district_admin), "content-type": "application/json"},
    )
    body = assert_problem(r, 422)
    assert body["errors"][0]["type"] == "json_invalid"


def test_wrong_types_and_unknown_fields_are_listed(client, world, auth):
    r = client.post(
        "/api/v1/schools",
        headers=auth(world.district_admin),
        json={"name": 5, "time_zone": "America/Chicago", "id": "x", "role": "y"},
    )
    body = assert_problem(r, 422)
    fields = sorted(e["field"] for e in body["errors"])
    assert fields == ["body.id", "body.name", "body.role"]


def test_nul_bytes_are_rejected(client, world, auth):
    r = client.post(
        "/api/v1/schools",
        headers=auth(world.district_admin),
        json={"name": "Bad\u0000School", "time_zone": "America/Chicago"},
    )
    assert assert_problem(r, 422)["errors"] == [
        {"field": "body", "message": "contains NUL", "type": "nul"}
    ]


def test_out_of_range_integers_are_422(client, world, auth):
    h = auth(world.district_admin)
    assert_problem(client.get("/api/v1/schools?limit=99999999999999999999999", headers=h), 422)
    assert_problem(client.get("/api/v1/schools?offset=-1", headers=h), 422)
    assert_problem(client.get("/api/v1/schools?limit=0", headers=h), 422)


def test_bad_uuid_in_path_is_422(client, world, auth):
    assert_problem(
        client.get("/api/v1/schools/not-a-uuid", headers=auth(world.district_admin)), 422
    )


def test_oversized_body_is_413_before_reading(client, world, auth, settings):
    big = b"x" * (settings.max_body_bytes + 1)
    r = client.post(
        "/api/v1/schools",
        content=big,
        headers={**auth(world.district_admin), "content-type": "application/json"},
    )
    assert_problem(r, 413)


def test_streamed_oversized_body_is_413(client, world, auth, settings):
    def chunks():
        for _ in range(settings.max_body_bytes // 1024 + 2):
            yield b"x" * 1024

    r = client.post(
        "/api/v1/schools",
        content=chunks(),
        headers={**auth(world.district_admin), "content-type": "application/json"},
    )
    assert r.status_code == 413


def test_security_headers(client, world, auth):
    r = client.get("/api/v1/me", headers=auth(world.teacher_a))
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert len(r.headers["x-request-id"]) == 32


def test_caller_request_id_is_echoed_and_junk_replaced(client):
    assert (
        client.get("/healthz", headers={"X-Request-Id": "trace-123"}).headers["x-request-id"]
        == "trace-123"
    )
    assert (
        client.get("/healthz", headers={"X-Request-Id": "a b\tc"}).headers["x-request-id"]
        != "a b\tc"
    )


def test_cors_allows_only_configured_origins(client):
    ok = client.options(
        "/api/v1/schools",
        headers={"Origin": "https://app.example.org", "Access-Control-Request-Method": "GET"},
    )
    assert ok.headers["access-control-allow-origin"] == "https://app.example.org"
    bad = client.options(
        "/api/v1/schools",
        headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in bad.headers


def test_wildcard_cors_with_credentials_is_refused():
    from pydantic import ValidationError

    from app.core.config import Settings

    with pytest.raises(ValidationError, match="CORS"):
        Settings(cors_origins=["*"], cors_allow_credentials=True)


def test_production_refuses_the_default_secret():
    from pydantic import ValidationError

    from app.core.config import Settings

    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production")
    Settings(environment="production", secret_key="s" * 40)


def test_unexpected_errors_are_500_problems_without_internals(settings, caplog):
    from fastapi.testclient import TestClient

    from app.main import create_app

    app = create_app(settings)
    boom = APIRouter()

    @boom.get("/boom")
    async def explode() -> None:
        raise RuntimeError("secret internals: SELECT * FROM user_account")

    app.include_router(boom)
    with TestClient(app, raise_server_exceptions=False) as c, caplog.at_level(logging.ERROR):
        r = c.get("/boom")
    body = assert_problem(r, 500)
    assert "SELECT" not in r.text
    assert "secret" not in r.text
    assert any(getattr(rec, "request_id", None) == body["request_id"] for rec in caplog.records)


def test_access_log_is_one_json_line_per_request(client, world, auth, capsys):
    from app.core.logging import JsonFormatter

    logger = logging.getLogger("peercoach.access")
    old = logger.level
    logger.setLevel(logging.INFO)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    try:
        r = client.get("/api/v1/me", headers=auth(world.teacher_a))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    entry = next(e for e in lines if e.get("path") == "/api/v1/me")
    assert entry["method"] == "GET"
    assert entry["status"] == 200
    assert entry["user_id"] == str(world.teacher_a.id)
    assert entry["request_id"] == r.headers["x-request-id"]
    assert entry["duration_ms"] >= 0


def test_a_log_line_is_one_json_object_whatever_its_fields_hold():
    """The formatter writes what JSON has no type for as its `str`, and bytes that are not
    UTF-8 too: a log line never fails, and stays one parseable line."""
    from app.core.logging import JsonFormatter

    class Opaque:
        def __str__(self) -> str:
            return "opaque\nvalue"

    when = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    ident = uuid.uuid4()
    fields = {"who": ident, "when": when, "thing": Opaque(), "n": None, "xs": [1, "é"]}
    record = logging.getLogger("peercoach.test").makeRecord(
        "peercoach.test", logging.INFO, "", 0, "seen %s", ("é",), None, extra=fields
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["msg"] == "seen é"
    assert entry["level"] == "info"
    assert entry["who"] == str(ident)
    assert datetime.fromisoformat(entry["when"]) == when
    assert entry["thing"] == "opaque\nvalue"
    assert entry["n"] is None
    assert entry["xs"] == [1, "é"]

    record = logging.getLogger("peercoach.test").makeRecord(
        "peercoach.test", logging.INFO, "", 0, "raw", (), None, extra={"raw": b"\xff"}
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert json.loads(line)["raw"] == str(b"\xff")


def test_telemetry_is_asked_for_once_not_on_every_request(settings, monkeypatch):
    """Without an OpenTelemetry provider the app is built with FastAPI's telemetry off, and a
    request never asks OpenTelemetry for one; with a provider, or FastAPI's auto-configuration
    asked for, FastAPI's defaults stay."""
    from fastapi.testclient import TestClient
    from opentelemetry import trace

    from app.core import telemetry
    from app.main import create_app

    assert telemetry.telemetry_config() == telemetry.OFF
    asked = []
    real = trace.get_tracer_provider

    def counted():
        asked.append(1)
        return real()

    app = create_app(settings)
    monkeypatch.setattr(trace, "get_tracer_provider", counted)
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200
    assert asked == []

    monkeypatch.setattr(trace, "get_tracer_provider", trace.NoOpTracerProvider)
    assert telemetry.telemetry_config() is None
    monkeypatch.setattr(trace, "get_tracer_provider", real)
    monkeypatch.setenv("FASTAPI_OTEL_AUTO_CONFIGURE", "true")
    assert telemetry.telemetry_config() is None


def test_request_ids_are_unique_per_request_and_per_forked_worker(client):
    ids = {client.get("/healthz").headers["x-request-id"] for _ in range(20)}
    assert len(ids) == 20
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # a forked worker: its own ids, whatever the parent's counter was at
        os.write(write, middleware._next_request_id().encode())
        os._exit(0)
    os.waitpid(child, 0)
    theirs = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    assert theirs[:16] != middleware._next_request_id()[:16]
