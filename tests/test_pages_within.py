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


@pytest.fixture
def confidential(client, world, factory, auth):
    """A team whose members wrote an observation record and a learning form each, read once (so
    its read log holds a line), and teacher A3, who joins after: the lists of what only the
    team's members read, from when each may."""
    from tests.coaching.test_membership import _invite, _records
    from tests.teams import accept_invitations

    team = make_team(client, world, factory, auth)
    _records(client, auth, team, world)
    for teacher in (world.teacher_a, world.teacher_a2):
        r = client.put(
            f"/api/v1/teams/{team['id']}/learning-forms/{teacher.id}",
            headers=auth(teacher),
            json={"purpose": f"Confidential purpose of {teacher.email}"},
        )
        assert r.status_code == 201, r.text
    base = f"/api/v1/teams/{team['id']}"
    assert (
        client.get(f"{base}/observation-records", headers=auth(world.teacher_a)).status_code == 200
    )
    assert _invite(client, auth, team, world.teacher_a, world.teacher_a3).status_code == 201
    accept_invitations(client, auth, team["id"], world.teacher_a3)
    return {
        "observation records": f"{base}/observation-records",
        "learning forms": f"{base}/learning-forms",
        "read log": f"{base}/read-log",
        "observation comparison": f"{base}/observation-comparison",
    }


TEAM_LISTS = ["observation records", "learning forms", "read log", "observation comparison"]


@pytest.mark.parametrize("kind", TEAM_LISTS)
def test_a_teams_confidential_list_is_one_statement(app, client, world, auth, confidential, kind):
    h = auth(world.teacher_a)
    client.get("/api/v1/me", headers=h)
    with counting(app, cold=False) as seen:
        r = client.get(confidential[kind], headers=h)
    assert r.status_code == 200, r.text
    if kind == "observation comparison":
        assert r.json()["strategies"][0]["observations"][0]["record_status"] == "written"
    else:
        assert r.json()["total"] == len(r.json()["items"]) >= 1
    assert len(seen) == 1, seen
    assert "parent" in seen[0]


@pytest.mark.parametrize("kind", TEAM_LISTS)
@pytest.mark.parametrize(
    ("who", "status"),
    [("admin_a", 403), ("district_admin", 403), ("teacher_b", 404), ("admin_b", 404)],
)
def test_no_one_off_the_team_reads_its_confidential_lists(
    client, world, auth, confidential, kind, who, status
):
    """The page is read only when the check finds the caller on the team: an administrator of
    a member's school is told it is the members' (403), anyone who does not see the team that
    there is none (404); neither reads a row, nor how many there are, past the end included."""
    for query in ("", "?offset=1", "?offset=50"):
        r = client.get(confidential[kind] + query, headers=auth(getattr(world, who)))
        assert r.status_code == status, (query, r.text)
        assert "items" not in r.json()
        assert "total" not in r.json()
        assert "strategies" not in r.json()
        assert "Confidential" not in r.text


def test_a_later_member_lists_only_what_was_written_since_they_joined(
    app, client, world, auth, confidential
):
    """Teacher A3 joined after the record and the forms: the lists read empty (in a snapshot
    after the check: 200, not 403), until A3 writes their own form, which they read."""
    n = auth(world.teacher_a3)
    client.get("/api/v1/me", headers=n)
    with counting(app, cold=False) as seen:
        r = client.get(confidential["observation records"], headers=n)
    assert r.status_code == 200, r.text
    assert (r.json()["items"], r.json()["total"]) == ([], 0)
    assert len(seen) == 3, seen  # the guarded page, then the standing and the page
    assert client.get(confidential["learning forms"], headers=n).json()["total"] == 0
    # The observation is there, its record not theirs to read yet; the founder reads it.
    compared = client.get(confidential["observation comparison"], headers=n).json()
    [seen_by_newcomer] = compared["strategies"][0]["observations"]
    assert (seen_by_newcomer["record_status"], seen_by_newcomer["record"]) == (
        "before_you_joined",
        None,
    )
    compared = client.get(confidential["observation comparison"], headers=auth(world.teacher_a))
    [seen_by_founder] = compared.json()["strategies"][0]["observations"]
    assert seen_by_founder["record_status"] == "written"
    assert seen_by_founder["record"]["affirmations"] == ["Confidential affirmation"]
    team_id = confidential["read log"].split("/")[-2]
    r = client.put(
        f"/api/v1/teams/{team_id}/learning-forms/{world.teacher_a3.id}",
        headers=n,
        json={"purpose": "Mine"},
    )
    assert r.status_code == 201, r.text
    forms = client.get(confidential["learning forms"], headers=n).json()
    assert [f["teacher_id"] for f in forms["items"]] == [str(world.teacher_a3.id)]
    assert forms["total"] == 1
    founder = client.get(confidential["learning forms"], headers=auth(world.teacher_a)).json()
    assert founder["total"] == 3


def test_a_deleted_teams_confidential_lists_are_closed_to_its_members(
    client, world, auth, confidential
):
    team_id = confidential["read log"].split("/")[-2]
    r = client.delete(
        f"/api/v1/teams/{team_id}", headers={**auth(world.teacher_a), "If-Match": "*"}
    )
    assert r.status_code == 204, r.text
    for kind in TEAM_LISTS:
        r = client.get(confidential[kind], headers=auth(world.teacher_a))
        assert r.status_code == 404, (kind, r.text)
        assert "items" not in r.json()
        assert "strategies" not in r.json()


def test_a_team_with_nothing_yet_answers_each_caller_as_one_with_rows(
    app, client, world, factory, auth
):
    """No observation, record, form or read yet: the guarded read is empty, so the standing
    decides in a snapshot: the members read empty lists, others 403 or 404 as before (the read
    log first: listing the others is a read it logs)."""
    team = make_team(client, world, factory, auth)
    base = f"/api/v1/teams/{team['id']}"
    for kind in ("read-log", "observation-records", "learning-forms", "observation-comparison"):
        h = auth(world.teacher_a)
        client.get("/api/v1/me", headers=h)
        with counting(app, cold=False) as seen:
            r = client.get(f"{base}/{kind}", headers=h)
        assert r.status_code == 200, (kind, r.text)
        assert r.json().get("items", r.json().get("strategies")) == []
        assert len(seen) == 3, (kind, seen)  # the guarded read, then the standing and the read
        assert client.get(f"{base}/{kind}", headers=auth(world.admin_a)).status_code == 403
        assert client.get(f"{base}/{kind}", headers=auth(world.teacher_b)).status_code == 404


def test_a_list_within_a_record_is_a_template(settings):
    import asyncio

    from sqlalchemy import select

    from app.core.db import Database
    from app.core.reads import Bound, Reads, Within
    from app.teams.models import Team

    async def work() -> None:
        db = Database(settings)
        try:
            check = Within(Bound(select(Team.id), {}), "none")
            with pytest.raises(ValueError, match="template"):
                await Reads(db.driver).all(Team, select(Team.id), within=check)
        finally:
            await db.dispose()

    asyncio.run(work())


def test_a_list_read_by_parts_is_guarded_in_each_part():
    """A page within a record whose list is read by parts (`PageQuery`'s `parts`): the check
    guards each part, so neither the page nor its count (counted through the parts) reads
    anything of a record the caller may not see."""
    from sqlalchemy import false, select
    from sqlalchemy.dialects import sqlite

    from app.core.reads import _guarded
    from app.reflections import policies
    from app.reflections import service as reflections
    from app.teams.models import Team

    query = reflections._list_query(policies.Reader.teacher, False, False, False, False)
    assert len(query.parts) == 3
    guarded = _guarded(query, select(Team.id).where(false()))
    for statement in (guarded.page, guarded.count):
        sql = str(statement.compile(dialect=sqlite.dialect()))
        assert sql.count("EXISTS (SELECT 1 \nFROM parent)") >= len(query.parts), sql
