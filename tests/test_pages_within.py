"""A list of what belongs to a record (a post's comments, a team's invitations, an import's
rows) reads its page guarded by the record's visibility check in one statement
(`Reads.page(within=)`): a page with rows costs one statement, an empty one is read again in a
snapshot after the check alone, and a record the caller may not see answers 404 with nothing of
it read, whatever it holds."""

from __future__ import annotations

import uuid

import pytest

from app.core.reads import _merged
from tests.coaching.conftest import make_team
from tests.test_query_counts import counting


@pytest.fixture
def held(client, world, factory, auth):
    """A team with a pending invitation, and teacher A's private post with a comment: both
    hold rows that teacher B (another school) may not see."""
    team = make_team(client, world, factory, auth)
    a = auth(world.teacher_a)
    r = client.post(
        f"/api/v1/teams/{team['id']}/invitations",
        headers=a,
        json={"user_id": str(world.teacher_a3.id)},
    )
    assert r.status_code == 201, r.text
    post = client.post("/api/v1/reflections", headers=a, json={"title": "Mine", "body": "b"}).json()
    r = client.post(f"/api/v1/reflections/{post['id']}/comments", headers=a, json={"body": "note"})
    assert r.status_code == 201, r.text
    return {
        "invitations": f"/api/v1/teams/{team['id']}/invitations",
        "comments": f"/api/v1/reflections/{post['id']}/comments",
    }


@pytest.mark.parametrize("kind", ["invitations", "comments"])
def test_a_page_with_rows_is_one_statement(app, client, world, auth, held, kind):
    h = auth(world.teacher_a)
    client.get("/api/v1/me", headers=h)  # the caller's account is remembered: not counted
    with counting(app, cold=False) as seen:
        r = client.get(held[kind], headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["total"] == len(r.json()["items"]) == 1
    assert len(seen) == 1, seen
    assert "parent" in seen[0]  # the check went with the page


@pytest.mark.parametrize("kind", ["invitations", "comments"])
def test_a_record_the_caller_may_not_see_answers_404_whatever_it_holds(
    client, world, auth, held, kind
):
    """Were the page not guarded by the check, teacher B would read the rows (and a page past
    them would tell how many there are)."""
    for query in ("", "?offset=5"):
        r = client.get(held[kind] + query, headers=auth(world.teacher_b))
        assert r.status_code == 404, r.text
        assert "items" not in r.json()


def test_an_empty_page_is_checked_and_read_in_one_snapshot(app, client, world, auth, held):
    """No pending invitation left: the guarded page is empty, so the check and the page are
    read again together (200, not 404), and past the end too."""
    h = auth(world.teacher_a)
    listed = client.get(held["invitations"], headers=h).json()["items"]
    r = client.delete(f"{held['invitations']}/{listed[0]['id']}", headers=h)
    assert r.status_code == 204, r.text
    client.get("/api/v1/me", headers=h)
    with counting(app, cold=False) as seen:
        r = client.get(held["invitations"], headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["items"] == []
    assert r.json()["total"] == 0
    assert len(seen) == 3, seen  # the guarded page, then the check and the page
    r = client.get(held["invitations"] + "?offset=10", headers=h)
    assert r.status_code == 200
    assert r.json()["total"] == 0


def test_an_unknown_record_answers_404(client, world, auth, held):
    for path in (
        f"/api/v1/teams/{uuid.uuid4()}/invitations",
        f"/api/v1/reflections/{uuid.uuid4()}/comments",
    ):
        assert client.get(path, headers=auth(world.teacher_a)).status_code == 404


def test_a_page_and_its_check_bind_a_name_to_one_value():
    same = uuid.uuid4()
    assert _merged({"team_id": same, "a": 1}, {"team_id": same, "b": 2}) == {
        "team_id": same,
        "a": 1,
        "b": 2,
    }
    with pytest.raises(ValueError, match="team_id"):
        _merged({"team_id": same}, {"team_id": uuid.uuid4()})


def test_a_plans_history_is_one_statement_and_a_deleted_plan_still_says_so(
    app, client, world, auth, held
):
    """The history of a team's live plan is read guarded by the team's check; an empty page is
    explained as the plan's own read is (the team, or its plan, is not there)."""
    team_id = held["invitations"].split("/")[-2]
    url = f"/api/v1/teams/{team_id}/plan"
    a = auth(world.teacher_a)
    r = client.post(f"{url}/transitions", headers={**a, "If-Match": "*"}, json={"action": "submit"})
    assert r.status_code == 200, r.text
    client.get("/api/v1/me", headers=a)
    with counting(app, cold=False) as seen:
        history = client.get(f"{url}/transitions", headers=a)
    assert history.status_code == 200, history.text
    assert [t["to_status"] for t in history.json()["items"]] == ["submitted"]
    assert len(seen) == 1, seen
    hidden = client.get(f"{url}/transitions", headers=auth(world.teacher_b))
    assert hidden.status_code == 404
    assert hidden.json()["detail"] == "No such team"
    assert client.delete(url, headers={**a, "If-Match": "*"}).status_code == 204
    gone = client.get(f"{url}/transitions", headers=a)
    assert gone.status_code == 404
    assert gone.json()["detail"] == "This team has no action plan"
