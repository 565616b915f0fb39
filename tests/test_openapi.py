"""The committed OpenAPI document is what the app serves, and complete for client generators."""

import json
from pathlib import Path

from app.openapi import render_openapi

COMMITTED = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"
METHODS = {"get", "post", "put", "patch", "delete"}


def test_committed_document_is_current():
    assert COMMITTED.read_text() == render_openapi(), (
        "openapi/openapi.json is stale: run `make openapi` (or `peercoach openapi`) and commit it"
    )


# Answered without an account: signing in, and setting a password with an emailed token.
PUBLIC = {
    "/api/v1/auth/token",
    "/api/v1/auth/activate",
    "/api/v1/auth/password-reset",
    "/api/v1/auth/password-reset/confirm",
    "/api/v1/sso/providers",
    "/api/v1/sso/{provider}/authorize",
    "/api/v1/sso/{provider}/callback",
    "/api/v1/sso/token",
    "/api/v1/calendar-feeds/{token}.ics",  # the secret address is the key
}


def test_every_operation_is_documented_for_generated_clients():
    doc = json.loads(render_openapi())
    seen_ids = set()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            where = f"{method.upper()} {path}"
            assert op.get("operationId"), where
            assert op["operationId"] not in seen_ids, where
            seen_ids.add(op["operationId"])
            assert op.get("tags"), where
            assert op.get("summary"), where
            assert op.get("description"), f"{where} has no docstring"
            if path.startswith("/api/v1/") and path not in PUBLIC:
                assert "401" in op["responses"], where
                assert op.get("security"), where
            for status, resp in op["responses"].items():
                if status.startswith(("4", "5")):
                    assert "application/problem+json" in resp["content"], f"{where} {status}"


def test_security_schemes_are_declared():
    schemes = json.loads(render_openapi())["components"]["securitySchemes"]
    assert schemes["StaffLogin"]["type"] == "oauth2"
    assert schemes["StaffLogin"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert schemes["IntegrationKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An integration key (`pck_...`) created by a district administrator",
    }


def test_the_login_scheme_is_documented_on_every_checked_operation_and_solved_on_none():
    """The checks read the bearer token themselves (app/auth/deps.py): no route solves the
    login scheme as a dependency, and the document names it, first, on exactly the operations
    whose dependencies include a check."""
    from fastapi.routing import APIRoute, iter_route_contexts

    from app.auth.deps import admits_keys, oauth2_scheme
    from app.main import create_app

    doc = json.loads(render_openapi())
    checked = 0
    for route in iter_route_contexts(create_app().routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        calls, pending = [], list(route.dependant.dependencies)
        while pending:
            dependant = pending.pop()
            calls.append(dependant.call)
            pending.extend(dependant.dependencies)
        assert oauth2_scheme not in calls, route.path_format
        has_check = any(admits_keys(call) is not None for call in calls)
        for method in route.methods or ():
            security = doc["paths"][route.path_format][method.lower()].get("security")
            assert (security or [{}])[0] == ({"StaffLogin": []} if has_check else {}), (
                method,
                route.path_format,
            )
            checked += has_check
    assert checked > 100


def test_integration_keys_are_documented_where_they_are_accepted(client, factory, auth):
    """Each GET without path parameters, asked with a key holding every scope: documented with
    the IntegrationKey scheme means not refused for being a key, and the other way round."""
    doc = json.loads(render_openapi())
    _, every_scope = factory.integration_key("read roster:write")
    checked = 0
    for path, item in doc["paths"].items():
        op = item.get("get")
        if not path.startswith("/api/v1/") or "{" in path or op is None or "security" not in op:
            continue
        documented = {"IntegrationKey": []} in op["security"]
        r = client.get(path, headers=auth(every_scope))
        refused = r.status_code in (401, 403)
        assert documented != refused, (path, r.status_code, r.text[:200])
        checked += 1
    assert checked >= 10
