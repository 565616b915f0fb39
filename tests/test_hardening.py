"""What the attacker's report listed under "fix anyway", each with the probe that found it."""

from __future__ import annotations

import asyncio
import logging

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text

from app.core.config import DEFAULT_SECRET, Settings
from app.main import create_app
from tests.coaching.conftest import make_team


def test_a_program_post_shows_what_it_links_to_only_to_its_team(client, world, factory, auth):
    team = make_team(client, world, factory, auth)
    event = client.post(
        "/api/v1/events",
        headers=auth(world.teacher_a),
        json={"team_id": team["id"], "kind": "other", "starts_at": "2026-10-01T15:00:00Z",
              "ends_at": "2026-10-01T16:00:00Z"},
    ).json()  # fmt: skip
    post = client.post(
        "/api/v1/reflections",
        headers=auth(world.teacher_a),
        json={"title": "For everyone", "body": "b", "visibility": "program",
              "team_id": team["id"], "event_id": event["id"]},
    ).json()  # fmt: skip
    links = ("team_id", "event_id", "observation_record_id")
    for who, sees in (
        (world.teacher_a, True),
        (world.teacher_a2, True),
        (world.teacher_a3, False),
        (world.teacher_b, False),
        (world.admin_a, False),
        (world.district_admin, False),
    ):
        one = client.get(f"/api/v1/reflections/{post['id']}", headers=auth(who)).json()
        listed = client.get("/api/v1/reflections", headers=auth(who)).json()["items"]
        for shown in (one, next(p for p in listed if p["id"] == post["id"])):
            assert (shown["team_id"] == team["id"]) is sees
            assert (shown["event_id"] == event["id"]) is sees
            if not sees:
                assert all(shown[k] is None for k in links)
                assert team["id"] not in str(shown)
                assert event["id"] not in str(shown)


@pytest.mark.parametrize(
    ("environment", "docs_enabled", "served"),
    [("production", None, False), ("production", True, True), ("development", None, True),
     ("test", False, False)],
)  # fmt: skip
def test_docs_are_served_where_the_settings_say(settings, environment, docs_enabled, served):
    app = create_app(
        settings.model_copy(update={"environment": environment, "docs_enabled": docs_enabled})
    )
    with TestClient(app) as c:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (c.get(path).status_code == 200) is served, path
        assert c.get("/healthz").status_code == 200


@pytest.mark.parametrize("environment", ["test", "production"])
def test_only_development_accepts_the_public_default_secret(environment):
    with pytest.raises(ValidationError):
        Settings(environment=environment, secret_key=DEFAULT_SECRET)
    Settings(environment="development", secret_key=DEFAULT_SECRET)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/schools", "GET, POST"),
        ("PUT", "/api/v1/users/123e4567-e89b-12d3-a456-426614174000", "GET, PATCH"),
        ("POST", "/healthz", "GET"),
    ],
)
def test_405_says_what_is_allowed(client, method, path, allowed):
    r = client.request(method, path)
    assert r.status_code == 405
    assert r.headers["allow"] == allowed
    assert r.headers["content-type"] == "application/problem+json"


def test_answers_forbid_loading_anything_and_the_summary_only_styles_itself(
    client, world, factory, auth
):
    team = make_team(client, world, factory, auth)
    r = client.get(f"/api/v1/teams/{team['id']}", headers=auth(world.teacher_a))
    assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    doc = client.get(
        f"/api/v1/teams/{team['id']}/summary/document?format=html", headers=auth(world.teacher_a)
    )
    csp = doc.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "style-src 'unsafe-inline'" in csp
    assert "script-src" not in csp
    assert doc.headers["x-content-type-options"] == "nosniff"


def test_a_refused_cors_preflight_is_a_problem_document(client):
    r = client.options(
        "/api/v1/schools",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "Disallowed CORS origin"
    ok = client.options(
        "/api/v1/schools",
        headers={"Origin": "https://app.example.org", "Access-Control-Request-Method": "GET"},
    )
    assert ok.status_code == 200


def test_next_links_never_come_from_the_host_header(settings, world, auth):
    evil = {"Host": "evil.example"}
    with TestClient(create_app(settings)) as c:
        page = c.get("/api/v1/focus-areas?limit=2", headers={**auth(world.teacher_a), **evil})
        assert page.json()["next"] == "/api/v1/focus-areas?offset=2&limit=2"
    public = settings.model_copy(update={"public_url": "https://coach.district.org"})
    with TestClient(create_app(public)) as c:
        page = c.get("/api/v1/focus-areas?limit=2", headers={**auth(world.teacher_a), **evil})
        assert (
            page.json()["next"] == "https://coach.district.org/api/v1/focus-areas?offset=2&limit=2"
        )


@pytest.mark.parametrize("public_url", [None, "https://coach.district.org/"])
@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/users", b""),
        ("/api/v1/users", b"limit=2"),
        ("/api/v1/users", b"offset=4&limit=2&q=ann+lee"),
        ("/api/v1/users", b"q=%C3%A9l%C3%A8ve&role=teacher&role=school_admin&limit=2"),
        ("/api/v1/users", b"q=a%26b%3Dc%2Bd&empty=&limit=2&offset=0"),
        ("/api/v1/odd?path#with\\marks", b"limit=2"),
    ],
)
def test_a_next_link_is_what_starlette_would_build(public_url, path, query):
    """`links.same_path_with` (a page's `next`) gives what `request.url.include_query_params`
    gave, without parsing the URL: parameters kept in order, `offset` and `limit` set last,
    the path escaped as Starlette escapes it, on the public base or relative."""
    from types import SimpleNamespace

    from starlette.requests import Request

    from app.core.links import link, same_path_with

    app = SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(public_url=public_url)))
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "query_string": query,
        "headers": [(b"host", b"evil.example")],
        "server": ("127.0.0.1", 8000),
        "app": app,
    }
    request = Request(scope)
    expected = link(request, request.url.include_query_params(offset=6, limit=2))
    assert same_path_with(request, {"offset": 6, "limit": 2}) == expected
    assert "evil.example" not in expected


def test_database_errors_never_log_bind_values(settings, caplog):
    app = create_app(settings)
    secret = "ana.alvarez.login@example.org"

    async def fail() -> str:
        try:
            async with app.state.db.engine.connect() as conn:
                await conn.execute(text("SELECT * FROM no_such_table WHERE x = :x"), {"x": secret})
        except Exception as exc:
            logging.getLogger("peercoach.errors").warning("database error: %s", exc)
            return str(exc)
        finally:
            await app.state.db.dispose()
        return ""

    with caplog.at_level(logging.WARNING):
        message = asyncio.run(fail())
    assert "no_such_table" in message
    assert secret not in message
    assert secret not in caplog.text
