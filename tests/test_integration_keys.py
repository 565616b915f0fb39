import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.core.db import utcnow
from app.integration_keys.models import IntegrationKey


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("teacher", 403),
        ("school_admin", 403),
        ("other_school_admin", 403),
        ("district_admin", 201),
        ("read_key", 403),
        ("roster_key", 403),
    ],
)
def test_create_key_by_caller(client, world, auth, caller, status):
    r = client.post(
        "/api/v1/integration-keys",
        headers=auth(world.caller(caller)),
        json={"name": "SIS nightly", "scopes": ["roster:write", "read"]},
    )
    assert r.status_code == status
    if status == 201:
        body = r.json()
        assert body["key"].startswith("pck_")
        assert body["scopes"] == ["read", "roster:write"]
        listed = client.get("/api/v1/integration-keys", headers=auth(world.district_admin)).json()
        assert "key" not in listed["items"][0]


@pytest.mark.parametrize(
    "caller", ["anonymous", "teacher", "school_admin", "read_key", "roster_key"]
)
def test_list_and_revoke_are_district_admin_only(client, world, auth, caller):
    expected = 401 if caller == "anonymous" else 403
    assert (
        client.get("/api/v1/integration-keys", headers=auth(world.caller(caller))).status_code
        == expected
    )
    key_id = client.get("/api/v1/integration-keys", headers=auth(world.district_admin)).json()[
        "items"
    ][0]["id"]
    r = client.delete(f"/api/v1/integration-keys/{key_id}", headers=auth(world.caller(caller)))
    assert r.status_code == expected


def test_key_lifecycle(client, world, auth):
    h = auth(world.district_admin)
    created = client.post(
        "/api/v1/integration-keys", headers=h, json={"name": "reader", "scopes": ["read"]}
    ).json()
    key = created["key"]
    assert client.get("/api/v1/users", headers=auth(key)).status_code == 200
    assert (
        client.post(
            "/api/v1/schools", headers=auth(key), json={"name": "K", "time_zone": "UTC"}
        ).status_code
        == 403
    )
    assert client.delete(f"/api/v1/integration-keys/{created['id']}", headers=h).status_code == 204
    r = client.get("/api/v1/users", headers=auth(key))
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    listed = client.get("/api/v1/integration-keys?include_revoked=true", headers=h).json()
    assert [k["revoked_at"] is not None for k in listed["items"] if k["id"] == created["id"]] == [
        True
    ]
    active = client.get("/api/v1/integration-keys", headers=h).json()
    assert created["id"] not in {k["id"] for k in active["items"]}


def test_tampered_keys_are_401(client, world, auth):
    for bad in (world.read_key[:-2] + "zz", "pck_short_x", "pck_", world.read_key + "x" * 200):
        assert client.get("/api/v1/schools", headers=auth(bad)).status_code == 401


def test_key_input_validation(client, world, auth):
    h = auth(world.district_admin)
    assert (
        client.post(
            "/api/v1/integration-keys", headers=h, json={"name": "x", "scopes": []}
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/integration-keys", headers=h, json={"name": "x", "scopes": ["admin"]}
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/integration-keys", headers=h, json={"name": "", "scopes": ["read"]}
        ).status_code
        == 422
    )
    import uuid

    assert client.delete(f"/api/v1/integration-keys/{uuid.uuid4()}", headers=h).status_code == 404


def test_a_key_given_an_end_stops_working_then(client, world, auth, sync_engine):
    h = auth(world.district_admin)
    past = client.post(
        "/api/v1/integration-keys",
        headers=h,
        json={"name": "too late", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"},
    )
    assert past.status_code == 422
    created = client.post(
        "/api/v1/integration-keys",
        headers=h,
        json={"name": "term", "scopes": ["read"], "expires_at": "2099-06-30T00:00:00Z"},
    ).json()
    assert created["expires_at"] == "2099-06-30T00:00:00Z"
    key = created["key"]
    assert client.get("/api/v1/users", headers=auth(key)).status_code == 200
    with sync_engine.begin() as conn:  # its end comes
        conn.execute(
            update(IntegrationKey)
            .where(IntegrationKey.id == uuid.UUID(created["id"]))  # type: ignore[arg-type]
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert client.get("/api/v1/users", headers=auth(key)).status_code == 401


def test_a_key_shows_its_last_use_without_a_write_per_request(
    app, client, world, auth, sync_engine
):
    h = auth(world.district_admin)
    created = client.post(
        "/api/v1/integration-keys", headers=h, json={"name": "sis", "scopes": ["read"]}
    ).json()
    assert created["last_used_at"] is None

    def last_use():
        listed = client.get("/api/v1/integration-keys", headers=h).json()["items"]
        return next(k["last_used_at"] for k in listed if k["id"] == created["id"])

    assert last_use() is None
    writes: list[str] = []

    def record(statement, args):
        if statement.lstrip().upper().startswith("UPDATE INTEGRATION_KEY"):
            writes.append(statement)

    listeners = app.state.db.driver.listeners  # the journal writes through the driver
    listeners.append(record)
    try:
        for _ in range(5):
            assert client.get("/api/v1/users", headers=auth(created["key"])).status_code == 200
    finally:
        listeners.remove(record)
    first = last_use()
    assert first is not None
    assert len(writes) == 1  # to the minute: five requests, one write
    # A minute later the next use moves it on.
    with sync_engine.begin() as conn:
        conn.execute(
            update(IntegrationKey)
            .where(IntegrationKey.id == uuid.UUID(created["id"]))  # type: ignore[arg-type]
            .values(last_used_at=utcnow() - timedelta(minutes=2))
        )
    assert client.get("/api/v1/users", headers=auth(created["key"])).status_code == 200
    assert last_use() > first
