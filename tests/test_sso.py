"""Single sign-on end to end against a real OpenID Connect provider on loopback
(oidc-provider-mock: discovery, JWKS, authorization codes, RS256 ID tokens), driven the way a
browser and a single-page front end drive it."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from oidc_provider_mock import run_server_in_thread
from sqlalchemy import func, select
from sqlmodel import Session

from app.auth.models import SsoSignIn
from app.auth.sso import _FORGET_UNFINISHED, FORGET_AT_ONCE, forget_expired
from app.core.config import OidcProvider
from app.mail.worker import run as run_worker
from app.main import create_app
from app.users.models import Role, User
from tests.conftest import ENGINE
from tests.dbsetup import on_database
from tests.factories import PASSWORD
from tests.test_invitations import deliver, smtp, token_in  # noqa: F401 (a fixture)
from tests.test_principal_cache import eventually

FRONT = "http://localhost:5173/sso/callback"
BASE = "http://testserver"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread(port=0) as server:
        yield f"http://localhost:{server.server_port}"


def _sso_settings(settings, issuer: str, **extra):
    providers = {
        "district": OidcProvider(
            display_name="District accounts",
            issuer=issuer,
            client_id="peercoach-test",
            client_secret="test-client-secret",
            sourced_id_claim="sourced_id",
        )
    }
    return settings.model_copy(update={"oidc_providers": providers, "public_url": BASE, **extra})


@pytest.fixture
def sso(settings, provider, client) -> Iterator[TestClient]:
    """An app whose district signs in through the provider (same database as `client`)."""
    with TestClient(create_app(_sso_settings(settings, provider)), base_url=BASE) as c:
        yield c


def challenge_for(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


class Browser:
    """What a browser does between the front end, the API and the provider."""

    def __init__(self, api: TestClient, issuer: str) -> None:
        self.api, self.issuer = api, issuer
        self.verifier = secrets.token_urlsafe(48)

    def authorize(self, **params) -> httpx.Response:
        query = {
            "redirect_uri": FRONT,
            "state": "front-end-state",
            "code_challenge": challenge_for(self.verifier),
            "code_challenge_method": "S256",
            **params,
        }
        return self.api.get("/api/v1/sso/district/authorize", params=query, follow_redirects=False)

    def at_provider(self, sub: str, claims: dict, *, action: str = "allow") -> str:
        """Sign in at the provider as `sub` with `claims`; the callback URL it sends back."""
        httpx.put(f"{self.issuer}/users/{sub}", json=claims).raise_for_status()
        started = self.authorize()
        assert started.status_code == 302, started.text
        location = started.headers["location"]
        assert location.startswith(self.issuer + "/oauth2/authorize?")
        form = {"sub": sub} if action == "allow" else {"action": "deny"}
        answered = httpx.post(location, data=form, follow_redirects=False)
        assert answered.status_code == 302, answered.text
        back = answered.headers["location"]
        assert back.startswith(f"{BASE}/api/v1/sso/district/callback?")
        return back.removeprefix(BASE)

    def callback(self, path: str) -> httpx.Response:
        return self.api.get(path, follow_redirects=False)

    def exchange(self, code: str, *, verifier: str | None = None, redirect_uri: str = FRONT):
        return self.api.post(
            "/api/v1/sso/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier or self.verifier,
                "client_id": "peercoach-web",
            },
        )

    def sign_in(self, sub: str, claims: dict) -> httpx.Response:
        back = self.callback(self.at_provider(sub, claims))
        assert back.status_code == 302, back.text
        return self.exchange(code_in(back))


def code_in(response: httpx.Response) -> str:
    location = response.headers["location"]
    assert location.startswith(FRONT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["front-end-state"]
    return query["code"][0]


def verified(email: str, **more) -> dict:
    return {"email": email, "email_verified": True, **more}


def refusal(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["errors"][0]["type"] == code, body
    return body


def test_a_teacher_signs_in_with_the_district_account(sso, provider, world, sync_engine):
    browser = Browser(sso, provider)
    back = browser.callback(browser.at_provider("g-123", verified("Teacher.A@example.org")))
    assert back.status_code == 302
    assert back.headers["cache-control"] == "no-store"
    location = back.headers["location"]
    assert "access_token" not in location  # only a one-time code
    assert "token=" not in location
    answer = browser.exchange(code_in(back))
    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] > 0
    me = sso.get("/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == str(world.teacher_a.id)
    assert me.json()["role"] == "teacher"  # unchanged: the roster decides roles
    # The code worked once.
    refusal(browser.exchange(code_in(back)), 400, "invalid_grant")


def test_the_same_token_serves_the_password_flow_routes(sso, provider, world):
    """Front ends need one code path: an SSO token works wherever a password token does."""
    token = Browser(sso, provider).sign_in("d-1", verified("district@example.org")).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert sso.get("/api/v1/users?limit=5", headers=headers).status_code == 200


def test_an_account_is_found_by_the_roster_id_the_provider_sends(
    sso, provider, factory, world, sync_engine
):
    person = factory.user(
        Role.teacher, [world.school_a], sourced_id="staff-777", with_password=False
    )
    # The provider knows the person by another (even unverified) address; the roster id wins.
    answer = Browser(sso, provider).sign_in(
        "clever-9", {"email": "someone@else.example", "sourced_id": "staff-777"}
    )
    assert answer.status_code == 200, answer.text
    with Session(sync_engine) as s:
        account = s.get(User, person.id)
        assert account is not None
        assert account.activated_at is not None  # in use now
        assert account.password_hash is None  # nothing about passwords changed


def test_sign_ins_never_create_accounts(sso, provider, world, sync_engine):
    with Session(sync_engine) as s:
        before = s.scalar(select(func.count()).select_from(User))
    browser = Browser(sso, provider)
    back = browser.callback(browser.at_provider("n-1", verified("newcomer@example.org")))
    refusal(back, 403, "no_account")
    with Session(sync_engine) as s:
        assert s.scalar(select(func.count()).select_from(User)) == before


@pytest.mark.parametrize(
    ("claims", "status", "code", "field"),
    [
        # An ID token made for another client of the same provider.
        ({"aud": "another-client"}, 401, "invalid_claim", "id_token.aud"),
        # Expired an hour ago (beyond any clock leeway).
        ({"exp": int(time.time()) - 3600}, 401, "expired_token", "id_token.exp"),
        # Not the nonce this sign-in sent (a token from another sign-in, replayed).
        ({"nonce": "someone-elses-nonce"}, 401, "invalid_claim", "id_token.nonce"),
        # Issued by someone else.
        ({"iss": "https://evil.example"}, 401, "invalid_claim", "id_token.iss"),
    ],
    ids=["wrong-audience", "expired", "wrong-nonce", "wrong-issuer"],
)
def test_id_tokens_that_fail_a_check_are_refused(sso, provider, world, claims, status, code, field):
    browser = Browser(sso, provider)
    path = browser.at_provider("bad-1", verified("teacher.a@example.org", **claims))
    body = refusal(browser.callback(path), status, code)
    assert body["errors"][0]["field"] == field
    assert body["status"] == status
    assert body["detail"]


def test_a_replayed_provider_answer_is_refused(sso, provider, world):
    browser = Browser(sso, provider)
    path = browser.at_provider("r-1", verified("teacher.a@example.org"))
    assert browser.callback(path).status_code == 302
    refusal(browser.callback(path), 400, "invalid_state")
    # And a state nobody issued.
    forged = path.split("state=")[0] + "state=forged"
    refusal(browser.callback(forged), 400, "invalid_state")


def test_an_unverified_email_is_refused(sso, provider, world):
    browser = Browser(sso, provider)
    claims = {"email": "teacher.a@example.org", "email_verified": False}
    refusal(browser.callback(browser.at_provider("u-1", claims)), 403, "email_unverified")
    claims = {"email": "teacher.a@example.org"}  # no claim at all: not verified either
    refusal(browser.callback(browser.at_provider("u-2", claims)), 403, "email_unverified")


def test_a_deactivated_account_is_refused(sso, provider, factory, world):
    factory.user(Role.teacher, [world.school_a], email="gone@example.org", is_active=False)
    browser = Browser(sso, provider)
    refusal(
        browser.callback(browser.at_provider("x-1", verified("gone@example.org"))),
        403,
        "deactivated",
    )


def test_an_account_deactivated_before_the_exchange_gets_no_token(
    sso, provider, world, client, auth
):
    browser = Browser(sso, provider)
    back = browser.callback(browser.at_provider("late-1", verified("teacher.a2@example.org")))
    assert back.status_code == 302
    patched = client.patch(
        f"/api/v1/users/{world.teacher_a2.id}",
        json={"is_active": False},
        headers={**auth(world.district_admin), "If-Match": "*"},
    )
    assert patched.status_code == 200, patched.text
    refusal(browser.exchange(code_in(back)), 400, "invalid_grant")


def test_a_person_who_declines_at_the_provider_is_told_so(sso, provider, world):
    browser = Browser(sso, provider)
    path = browser.at_provider("decline-1", verified("teacher.a@example.org"), action="deny")
    refusal(browser.callback(path), 401, "access_denied")


def test_the_code_needs_its_verifier_and_redirect_uri_and_is_burnt_by_a_wrong_one(
    sso, provider, world
):
    browser = Browser(sso, provider)
    back = browser.callback(browser.at_provider("v-1", verified("teacher.a@example.org")))
    code = code_in(back)
    refusal(browser.exchange(code, verifier=secrets.token_urlsafe(48)), 400, "invalid_grant")
    refusal(browser.exchange(code), 400, "invalid_grant")  # the wrong try used it up
    back = browser.callback(browser.at_provider("v-1", verified("teacher.a@example.org")))
    refusal(
        browser.exchange(code_in(back), redirect_uri="http://localhost:5173/elsewhere"),
        400,
        "invalid_grant",
    )
    bad_grant = sso.post(
        "/api/v1/sso/token",
        data={"grant_type": "password", "code": "x", "redirect_uri": FRONT,
              "code_verifier": browser.verifier},
    )  # fmt: skip
    refusal(bad_grant, 400, "unsupported_grant_type")
    assert sso.post("/api/v1/sso/token", data={"code": "x"}).status_code == 422


def test_sign_ins_return_only_to_registered_addresses(sso, provider):
    browser = Browser(sso, provider)
    answer = browser.authorize(redirect_uri="https://attacker.example/steal")
    refusal(answer, 400, "unregistered")
    assert "location" not in answer.headers  # never redirected
    refusal(browser.authorize(code_challenge_method="plain"), 400, "unsupported")
    refusal(browser.authorize(code_challenge="short"), 400, "invalid")
    missing = sso.get(
        "/api/v1/sso/district/authorize",
        params={"code_challenge": challenge_for(browser.verifier)},
    )
    assert missing.status_code == 422
    unknown = sso.get(
        "/api/v1/sso/nobody/authorize",
        params={"redirect_uri": FRONT, "code_challenge": challenge_for(browser.verifier)},
    )
    assert unknown.status_code == 404
    # The docs' own OAuth redirect is registered too (the Authorize button).
    docs = browser.authorize(redirect_uri=f"{BASE}/docs/oauth2-redirect")
    assert docs.status_code == 302


def test_a_provider_that_does_not_answer_is_a_503(settings, client):
    down = _sso_settings(settings, "http://127.0.0.1:9")  # nothing listens on the discard port
    with TestClient(create_app(down), base_url=BASE) as api:
        answer = Browser(api, "http://127.0.0.1:9").authorize()
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_the_sign_in_options_and_the_docs_authorize_button(sso):
    options = sso.get("/api/v1/sso/providers").json()
    assert options == {
        "providers": [
            {
                "name": "district",
                "display_name": "District accounts",
                "authorize_url": "/api/v1/sso/district/authorize",
            }
        ],
        "password_sign_in": True,
        "token_url": "/api/v1/sso/token",
    }
    doc = sso.get("/openapi.json").json()
    scheme = doc["components"]["securitySchemes"]["SSO-district"]
    assert scheme["flows"]["authorizationCode"] == {
        "authorizationUrl": "/api/v1/sso/district/authorize",
        "tokenUrl": "/api/v1/sso/token",
        "scopes": {},
    }
    me = doc["paths"]["/api/v1/me"]["get"]["security"]
    assert {"SSO-district": []} in me
    assert {"StaffLogin": []} in me


@pytest.fixture
def required(settings, provider, client) -> Iterator[TestClient]:
    """A district that requires single sign-on; district@example.org is its break-glass admin,
    and so (wrongly) is a teacher's address."""
    only_sso = _sso_settings(
        settings,
        provider,
        sso_required=True,
        sso_break_glass_emails=["District@example.org", "teacher.b@example.org"],
    )
    with TestClient(create_app(only_sso), base_url=BASE) as c:
        yield c


def _login(api: TestClient, email: str) -> httpx.Response:
    return api.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})


def test_requiring_sso_turns_passwords_off_but_for_break_glass_admins(required, provider, world):
    refused = _login(required, "teacher.a@example.org")
    assert refused.status_code == 403
    assert "single sign-on" in refused.json()["detail"]
    # The same answer for an address with no account: nothing is revealed.
    assert _login(required, "nobody@example.org").json()["detail"] == refused.json()["detail"]
    assert _login(required, "district@example.org").status_code == 200
    assert _login(required, "teacher.b@example.org").status_code == 403  # not an administrator
    assert required.get("/api/v1/sso/providers").json()["password_sign_in"] is False
    # Single sign-on still works for everyone.
    assert (
        Browser(required, provider).sign_in("t-1", verified("teacher.a@example.org")).status_code
        == 200
    )


def test_requiring_sso_stops_password_links_too(required, provider, world, factory, auth, smtp):  # noqa: F811
    inbox, mail = smtp
    # An invitation sent before the district required single sign-on cannot set a password.
    person = factory.user(
        Role.teacher, [world.school_a], email="late@example.org", with_password=False
    )
    invited = required.post(f"/api/v1/users/{person.id}/invitation", headers=auth(world.admin_a))
    assert invited.status_code in (200, 201, 202), invited.text
    deliver(mail)
    token = token_in(inbox.to("late@example.org")[-1])
    activation = required.post(
        "/api/v1/auth/activate", json={"token": token, "password": "a long enough passphrase 1"}
    )
    assert activation.status_code == 403
    # "Forgot my password" sends nothing; an administrator's reset is refused.
    asked = required.post("/api/v1/auth/password-reset", json={"email": "teacher.a@example.org"})
    assert asked.status_code == 202
    deliver(mail)
    assert inbox.to("teacher.a@example.org") == []
    reset = required.post(
        f"/api/v1/users/{world.teacher_a.id}/password-reset", headers=auth(world.admin_a)
    )
    assert reset.status_code == 409


def test_an_administrator_cannot_sign_in_as_a_teacher_by_changing_their_email(
    sso, provider, client, world, auth, factory
):
    """The attack the identity binding closes: an administrator points a teacher's email at an
    address they control at the provider, then signs in with it."""
    browser = Browser(sso, provider)
    admin = {**auth(world.admin_a), "If-Match": "*"}
    # A teacher who signed in before is bound to their provider account ...
    assert browser.sign_in("teacher-sub", verified("teacher.a@example.org")).status_code == 200
    moved = client.patch(
        f"/api/v1/users/{world.teacher_a.id}", headers=admin, json={"email": "mine@example.org"}
    )
    assert moved.status_code == 200, moved.text
    back = browser.callback(browser.at_provider("admin-sub", verified("mine@example.org")))
    refusal(back, 403, "identity_mismatch")
    # ... and still signs in with it, whatever the email now says.
    answer = browser.sign_in("teacher-sub", verified("teacher.a@example.org"))
    assert answer.status_code == 200, answer.text
    me = sso.get("/api/v1/me", headers={"Authorization": f"Bearer {answer.json()['access_token']}"})
    assert me.json()["id"] == str(world.teacher_a.id)
    # A teacher who never signed in: a changed address is not proof enough.
    moved = client.patch(
        f"/api/v1/users/{world.teacher_a2.id}", headers=admin, json={"email": "mine2@example.org"}
    )
    assert moved.status_code == 200, moved.text
    back = browser.callback(browser.at_provider("admin-sub-2", verified("mine2@example.org")))
    refusal(back, 403, "email_unconfirmed")


def test_the_roster_id_still_signs_in_after_an_email_change(
    sso, provider, client, world, auth, factory
):
    person = factory.user(Role.teacher, [world.school_a], email="old@example.org", sourced_id="r-1")
    moved = client.patch(
        f"/api/v1/users/{person.id}",
        headers={**auth(world.district_admin), "If-Match": "*"},
        json={"email": "new@example.org"},
    )
    assert moved.status_code == 200, moved.text
    answer = Browser(sso, provider).sign_in(
        "r-sub", {"email": "new@example.org", "sourced_id": "r-1"}
    )
    assert answer.status_code == 200, answer.text


def test_a_roster_id_an_administrator_set_does_not_sign_in(sso, provider, client, world, auth):
    """The same attack through the roster id: an administrator gives a teacher the roster id
    the provider sends for the administrator."""
    moved = client.patch(
        f"/api/v1/users/{world.teacher_a.id}",
        headers={**auth(world.district_admin), "If-Match": "*"},
        json={"sourced_id": "admins-own-roster-id"},
    )
    assert moved.status_code == 200, moved.text
    back = Browser(sso, provider).callback(
        Browser(sso, provider).at_provider(
            "district-admin-sub",
            verified("district@example.org", sourced_id="admins-own-roster-id"),
        )
    )
    refusal(back, 403, "roster_id_unconfirmed")


def _forget(settings) -> int:
    return on_database(settings, forget_expired)


def _sign_in_row(minutes: float) -> SsoSignIn:
    return SsoSignIn(
        provider="district", nonce="n", code_verifier="v", redirect_uri=FRONT,
        code_challenge="c", expires_at=datetime.now(UTC) + timedelta(minutes=minutes),
    )  # fmt: skip


@pytest.mark.skipif(ENGINE != "postgres", reason="row locks between writers (SQLite has one)")
def test_forgetting_expired_sign_ins_does_not_wait_for_another_worker(settings, sync_engine):
    """Workers on several hosts forget expired sign-ins. Another deleting the same rows holds
    their locks until it commits; a worker skips those rows instead of queueing behind it."""
    import threading

    from sqlalchemy import text

    expired = _sign_in_row(-1)
    with Session(sync_engine) as s:
        s.add(expired)
        s.commit()
        row_id = expired.id
    other = sync_engine.connect()
    other.begin()  # another worker, mid-delete: it holds the expired row's lock
    other.execute(text("SELECT id FROM sso_sign_in WHERE id = :id FOR UPDATE"), {"id": row_id})
    release = threading.Timer(4.0, other.rollback)
    release.start()
    try:
        started = time.monotonic()
        forgotten = _forget(settings)
        waited = time.monotonic() - started
    finally:
        release.cancel()
        other.rollback()
        other.close()
    assert waited < 2.0, f"the worker waited {waited:.1f} s for another's lock"
    assert forgotten == 0
    assert _forget(settings) == 1  # with the lock gone, the row is forgotten
    with Session(sync_engine) as s:
        assert s.get(SsoSignIn, row_id) is None


def test_the_worker_forgets_every_expired_sign_in_and_none_under_way(
    sso,
    provider,
    settings,
    sync_engine,
    smtp,  # noqa: F811 (a fixture)
):
    """The mail worker forgets the sign-ins nobody finished, FORGET_AT_ONCE a transaction,
    and never one still under way; a start leaves them to it (one INSERT). On PostgreSQL the
    ids are gathered once (not probed for each sign-in) whatever the statistics say: here
    they were gathered while the table was empty and a rush of sign-ins came after
    (autovacuum has not looked yet)."""
    from sqlalchemy import text

    rush = 0
    if ENGINE == "postgres":
        rush = 5_000
        with sync_engine.begin() as conn:
            conn.execute(text("DELETE FROM sso_sign_in"))
        with sync_engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("ANALYZE sso_sign_in")
            )
        with sync_engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO sso_sign_in (id, provider, nonce, code_verifier, redirect_uri,"
                    " code_challenge, expires_at) SELECT gen_random_uuid(), 'district', 'n', 'v',"
                    " 'r', 'c', now() + interval '5 minutes' FROM generate_series(1, :n)"
                ),
                {"n": rush},
            )
    expired = [_sign_in_row(-200 + i / 10) for i in range(FORGET_AT_ONCE + 20)]  # oldest first
    under_way = [_sign_in_row(5) for _ in range(30)]
    with Session(sync_engine) as s:
        s.add_all([*expired, *under_way])
        s.commit()
        under_way_ids = {r.id for r in under_way}
        oldest_ids = {r.id for r in expired[:FORGET_AT_ONCE]}

    def left() -> set:
        with Session(sync_engine) as s:
            found = set(s.scalars(select(SsoSignIn.id).where(SsoSignIn.redirect_uri != "r")))
            assert s.scalar(select(func.count()).select_from(SsoSignIn)) == rush + len(found)
            return found

    assert Browser(sso, provider).authorize().status_code == 302
    assert len(left()) == len(expired) + len(under_way) + 1  # the start forgot none
    if ENGINE == "postgres":
        stmt = _FORGET_UNFINISHED["postgresql"]
        compiled = stmt.compile(dialect=sync_engine.dialect)
        with sync_engine.begin() as conn:
            found = conn.exec_driver_sql(
                f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}",
                {**compiled.params, "now": datetime.now(UTC)},
            ).scalar()
            conn.rollback()
        plan = json.dumps(found)
        assert "InitPlan" in plan, plan  # the ids gathered once
        assert "Nested Loop" not in plan, plan  # not every sign-in probing the ids
    with sync_engine.begin() as conn:  # one statement: FORGET_AT_ONCE, the oldest
        stmt = _FORGET_UNFINISHED[sync_engine.dialect.name]
        one = conn.execute(stmt.returning(SsoSignIn.id), {"now": datetime.now(UTC)})
        assert set(one.scalars()) == oldest_ids
        conn.rollback()
    _, mail = smtp
    asyncio.run(run_worker(mail, once=True))
    kept = left()
    assert under_way_ids <= kept  # and the start's own sign-in
    assert len(kept) == len(under_way_ids) + 1
    assert _forget(settings) == 0


def test_an_administrator_removes_a_provider_account_the_provider_replaced(
    sso, provider, client, world, auth
):
    """The district recreated a teacher's account at its provider (a new `sub`): the binding
    refuses it until an administrator who manages the teacher removes the old one; the next
    sign-in binds the new account, and whoever was signed in with the old one is out."""
    browser = Browser(sso, provider)
    first = browser.sign_in("old-sub", verified("teacher.a@example.org"))
    assert first.status_code == 200, first.text
    old = {"Authorization": f"Bearer {first.json()['access_token']}"}
    mine = sso.get("/api/v1/me/sso-identities", headers=old)
    assert mine.status_code == 200, mine.text
    assert [(b["provider"], b["subject"]) for b in mine.json()["items"]] == [
        ("district", "old-sub")
    ]
    back = browser.callback(browser.at_provider("new-sub", verified("teacher.a@example.org")))
    refusal(back, 403, "identity_mismatch")

    url = f"/api/v1/users/{world.teacher_a.id}/sso-identities"
    assert client.get(url, headers=auth(world.admin_b)).status_code == 404  # not theirs
    assert client.get(url, headers=auth(world.teacher_a2)).status_code == 403
    assert client.delete(f"{url}/district", headers=auth(world.admin_b)).status_code == 404
    listed = client.get(url, headers=auth(world.admin_a))
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == mine.json()["items"]
    assert client.delete(f"{url}/district", headers=auth(world.admin_a)).status_code == 204
    assert client.delete(f"{url}/district", headers=auth(world.admin_a)).status_code == 404
    assert client.get(url, headers=auth(world.admin_a)).json()["items"] == []
    # Signed out. `sso` is another app (another worker): on PostgreSQL the account's change
    # reaches its cache when the database's notification does, milliseconds after the commit
    # (app/auth/principal_cache.py), so it is asked until then.
    assert eventually(lambda: sso.get("/api/v1/me", headers=old).status_code == 401)

    again = browser.sign_in("new-sub", verified("teacher.a@example.org"))
    assert again.status_code == 200, again.text
    new = {"Authorization": f"Bearer {again.json()['access_token']}"}
    assert sso.get("/api/v1/me", headers=new).json()["id"] == str(world.teacher_a.id)
    rebound = sso.get("/api/v1/me/sso-identities", headers=new).json()["items"]
    assert [b["subject"] for b in rebound] == ["new-sub"]

    trail = client.get(
        "/api/v1/audit-events",
        headers=auth(world.district_admin),
        params={"action": "sso_identity_unbound"},
    ).json()["items"]
    (removed,) = trail
    assert removed["actor"]["id"] == str(world.admin_a.id)
    assert removed["subject_user"]["id"] == str(world.teacher_a.id)
    assert removed["detail"] == {"provider": "district", "subject": "old-sub"}


def test_removing_a_binding_opens_no_way_in_for_an_administrator(
    sso, provider, client, world, auth
):
    """An administrator who points a teacher's email at an address of their own and removes the
    teacher's binding still does not sign in as the teacher: the address is not the
    teacher's proof (`email_unconfirmed`)."""
    browser = Browser(sso, provider)
    assert browser.sign_in("teacher-sub", verified("teacher.a@example.org")).status_code == 200
    admin = auth(world.admin_a)
    moved = client.patch(
        f"/api/v1/users/{world.teacher_a.id}",
        headers={**admin, "If-Match": "*"},
        json={"email": "mine@example.org"},
    )
    assert moved.status_code == 200, moved.text
    removed = client.delete(
        f"/api/v1/users/{world.teacher_a.id}/sso-identities/district", headers=admin
    )
    assert removed.status_code == 204, removed.text
    back = browser.callback(browser.at_provider("admin-sub", verified("mine@example.org")))
    refusal(back, 403, "email_unconfirmed")


def test_the_authorization_url_is_the_one_authlib_writes(settings, provider):
    """The provider's authorization URL is written without the HTTP client Authlib would open
    for it, and is the URL Authlib's own `create_authorization_url` writes for the same
    sign-in (the same parameters in the same order, PKCE challenge included), for a client
    with a secret and a public one; a second sign-in reuses what the first made."""
    import asyncio

    from app.auth.sso import Providers, callback_url

    async def both(config) -> tuple[str, str, str]:
        providers = Providers(config)
        values = {"state": "s" * 32, "nonce": "n" * 22, "code_verifier": "v" * 64}
        ours = await providers.authorization_url("district", **values)
        again = await providers.authorization_url("district", **values)
        _, app = providers.get("district")
        found = await app.create_authorization_url(callback_url(config, "district"), **values)
        return ours, again, found["url"]

    public = _sso_settings(settings, provider)
    public.oidc_providers["district"] = public.oidc_providers["district"].model_copy(
        update={"client_secret": ""}
    )
    for config in (_sso_settings(settings, provider), public):
        ours, again, authlib = asyncio.run(both(config))
        assert ours == again == authlib
        query = parse_qs(urlsplit(ours).query)
        assert query["code_challenge"] == [challenge_for("v" * 64)]
        assert query["nonce"] == ["n" * 22]
        assert query["redirect_uri"] == [f"{BASE}/api/v1/sso/district/callback"]
