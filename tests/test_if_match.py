"""No silent overwrites: every change to a versioned record sends the ETag it read. Without
`If-Match` the answer is 428 and nothing changes; with a stale one 412, carrying the current
`ETag`; with the current one (or `*`) the change is made."""

from __future__ import annotations

import pytest

from tests.coaching.conftest import make_team
from tests.teams import observations_before_approval


@pytest.fixture
def records(client, world, factory, auth):
    team = make_team(client, world, factory, auth)
    observations_before_approval(client, auth, world.district_admin)  # the plan stays a draft
    a = auth(world.teacher_a)

    def event(kind: str, day: int, **extra):
        r = client.post(
            "/api/v1/events",
            headers=a,
            json={"team_id": team["id"], "kind": kind,
                  "starts_at": f"2026-10-{day:02d}T15:00:00Z",
                  "ends_at": f"2026-10-{day:02d}T16:00:00Z", **extra},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        return r.json()

    obs = event("observation", 1, observer_id=str(world.teacher_a.id),
                observed_id=str(world.teacher_a2.id))  # fmt: skip
    pre = event("pre_conference", 2)
    other = event("other", 3)
    client.post(f"/api/v1/events/{obs['id']}/observation-record", headers=a,
                json={"affirmations": ["x"]})  # fmt: skip
    client.put(f"/api/v1/events/{pre['id']}/conference-record", headers=a, json={"summary": "s"})
    post = client.post("/api/v1/reflections", headers=a, json={"title": "T", "body": "b"}).json()
    me = {"id": str(world.teacher_a.id)}
    form = f"/api/v1/teams/{team['id']}/learning-forms/{me['id']}"
    assert client.put(form, headers=a, json={"purpose": "p"}).status_code == 201
    return {"team": team, "obs": obs, "pre": pre, "other": other, "post": post, "me": me}


# (method, url template, body, the GET that shows the ETag, a field the change would set)
CHANGES = [
    ("PATCH", "/api/v1/teams/{team}/plan", {"focus_goal": "G"}, "/api/v1/teams/{team}/plan"),
    ("POST", "/api/v1/teams/{team}/plan/transitions", {"action": "submit"},
     "/api/v1/teams/{team}/plan"),
    ("DELETE", "/api/v1/teams/{team}/plan", None, "/api/v1/teams/{team}/plan"),
    ("PATCH", "/api/v1/events/{other}", {"title": "New"}, "/api/v1/events/{other}"),
    ("POST", "/api/v1/events/{other}/cancel", {}, "/api/v1/events/{other}"),
    ("POST", "/api/v1/events/{other}/held", None, "/api/v1/events/{other}"),
    ("DELETE", "/api/v1/events/{other}", None, "/api/v1/events/{other}"),
    ("PATCH", "/api/v1/events/{obs}/observation-record", {"evidence": "E"},
     "/api/v1/events/{obs}/observation-record"),
    ("PUT", "/api/v1/events/{pre}/conference-record", {"summary": "S2"},
     "/api/v1/events/{pre}/conference-record"),
    ("PUT", "/api/v1/teams/{team}/learning-forms/{me}", {"purpose": "P2"},
     "/api/v1/teams/{team}/learning-forms/{me}"),
    ("PATCH", "/api/v1/reflections/{post}", {"title": "T2"}, "/api/v1/reflections/{post}"),
    ("DELETE", "/api/v1/reflections/{post}", None, "/api/v1/reflections/{post}"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "url", "body", "shown"), CHANGES)
def test_a_change_needs_the_etag_it_read(client, world, auth, records, method, url, body, shown):
    ids = {k: v["id"] for k, v in records.items()}
    url, shown = url.format(**ids), shown.format(**ids)
    a = auth(world.teacher_a)
    before = client.get(shown, headers=a)
    tag = before.headers["etag"]

    def send(headers):
        kwargs = {"headers": {**a, **headers}}
        if body is not None:
            kwargs["json"] = body
        return client.request(method, url, **kwargs)

    missing = send({})
    assert missing.status_code == 428, missing.text
    assert missing.headers["content-type"] == "application/problem+json"
    assert "If-Match" in missing.json()["detail"]
    assert client.get(shown, headers=a).json() == before.json()  # nothing changed
    stale = send({"If-Match": tag.replace("-", "-9")})
    assert stale.status_code == 412
    assert stale.headers["etag"] == tag  # what to fetch, without another round trip
    assert client.get(shown, headers=a).json() == before.json()
    done = send({"If-Match": tag})
    assert done.status_code in (200, 204), done.text


def test_writing_the_first_conference_record_needs_no_etag(client, world, auth, records):
    a = auth(world.teacher_a)
    post = client.post(
        "/api/v1/events",
        headers=a,
        json={"team_id": records["team"]["id"], "kind": "post_conference",
              "starts_at": "2026-10-20T15:00:00Z", "ends_at": "2026-10-20T16:00:00Z"},
    ).json()  # fmt: skip
    r = client.put(f"/api/v1/events/{post['id']}/conference-record", headers=a,
                   json={"summary": "first"})  # fmt: skip
    assert r.status_code == 201
    again = client.put(f"/api/v1/events/{post['id']}/conference-record", headers=a,
                       json={"summary": "second"})  # fmt: skip
    assert again.status_code == 428


def test_someone_who_may_not_change_it_is_told_so_first(client, world, auth, records):
    """403 (or 404) come before the precondition: no ETag talk with those who may not act."""
    r = client.patch(
        f"/api/v1/events/{records['other']['id']}", headers=auth(world.admin_a), json={"title": "x"}
    )
    assert r.status_code == 403
    r = client.patch(
        f"/api/v1/teams/{records['team']['id']}/plan", headers=auth(world.teacher_b), json={}
    )
    assert r.status_code == 404
