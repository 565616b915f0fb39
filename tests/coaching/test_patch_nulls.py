"""One rule for `null` in a PATCH body (app/core/rows.py): a field left out stays; `null` clears
a field that may be empty (a list becomes []) and is a 422 of type `null` for one that must
have a value, whatever the resource."""

import pytest

from tests.coaching.test_records import NOTES

ANY = {"If-Match": "*"}


def _refused(r, field: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert {"field": f"body.{field}", "message": "cannot be null", "type": "null"} in r.json()[
        "errors"
    ]


@pytest.mark.parametrize("field", ["name", "time_zone"])
def test_a_school_field_that_must_have_a_value(client, world, auth, field):
    url = f"/api/v1/schools/{world.school_a.id}"
    _refused(client.patch(url, headers=auth(world.district_admin), json={field: None}), field)
    assert client.get(url, headers=auth(world.district_admin)).json()["name"] == "Alpha School"


def test_a_focus_area_name_and_its_description(client, world, auth):
    h = auth(world.district_admin)
    area = client.post("/api/v1/focus-areas", headers=h, json={"name": "Wait time"}).json()
    url = f"/api/v1/focus-areas/{area['id']}"
    _refused(client.patch(url, headers=h, json={"name": None}), "name")
    _refused(client.patch(url, headers=h, json={"is_active": None}), "is_active")
    r = client.patch(url, headers=h, json={"description": None})
    assert r.status_code == 200, r.text
    assert r.json()["description"] is None


def test_your_own_name(client, world, auth):
    _refused(
        client.patch("/api/v1/me", headers=auth(world.teacher_a), json={"given_name": None}),
        "given_name",
    )


def test_a_team_clears_its_target_but_keeps_its_name(client, world, auth, team):
    url = f"/api/v1/teams/{team['id']}"
    h = {**auth(world.teacher_a), **ANY}
    _refused(client.patch(url, headers=h, json={"name": None}), "name")
    r = client.patch(url, headers=h, json={"learning_target": None})
    assert r.status_code == 200, r.text
    assert r.json()["learning_target"] is None


def test_an_event_keeps_its_people_and_times_but_clears_its_place(client, world, auth, observation):
    url = f"/api/v1/events/{observation['id']}"
    h = {**auth(world.teacher_a), **ANY}
    _refused(client.patch(url, headers=h, json={"participant_ids": None}), "participant_ids")
    _refused(client.patch(url, headers=h, json={"starts_at": None, "ends_at": None}), "starts_at")
    r = client.patch(url, headers=h, json={"location": None})
    assert r.status_code == 200, r.text
    assert r.json()["location"] is None


def test_a_record_list_becomes_empty(client, world, auth, observation):
    url = f"/api/v1/events/{observation['id']}/observation-record"
    h = auth(world.teacher_a)
    assert client.post(url, headers=h, json=NOTES).status_code == 201
    r = client.patch(url, headers={**h, **ANY}, json={"open_questions": None, "evidence": None})
    assert r.status_code == 200, r.text
    assert r.json()["open_questions"] == []
    assert r.json()["evidence"] is None
    assert r.json()["affirmations"] == NOTES["affirmations"]
