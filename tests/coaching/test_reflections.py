import uuid
from datetime import datetime

import pytest


def post(client, headers, **body):
    base = {"title": "What I learned", "body": "**Wait time** works."}
    return client.post("/api/v1/reflections", headers=headers, json=base | body)


@pytest.fixture
def posts(client, team, world, auth):
    h = auth(world.teacher_a)
    out = {
        "private": post(client, h, title="Private thoughts").json(),
        "team": post(client, h, title="For my team", visibility="team", team_id=team["id"]).json(),
        "program": post(client, h, title="For everyone", visibility="program").json(),
    }
    assert all("id" in p for p in out.values()), out
    return out


# who reads which post: private (author only), team (author + team members), program (all staff)
MATRIX = {
    "member": {"private": 404, "team": 200, "program": 200},  # teacher A2
    "same_school_teacher": {"private": 404, "team": 404, "program": 200},
    "outside_teacher": {"private": 404, "team": 404, "program": 200},
    "school_admin": {"private": 404, "team": 404, "program": 200},
    "other_school_admin": {"private": 404, "team": 404, "program": 200},
    "district_admin": {"private": 404, "team": 404, "program": 200},
}


@pytest.mark.parametrize("caller", list(MATRIX))
@pytest.mark.parametrize("kind", ["private", "team", "program"])
def test_read_reflection_by_caller(client, posts, world, auth, as_caller, caller, kind):
    headers = auth(world.teacher_a2) if caller == "member" else as_caller(caller)
    p = posts[kind]
    r = client.get(f"/api/v1/reflections/{p['id']}", headers=headers)
    assert r.status_code == MATRIX[caller][kind]
    listed = client.get("/api/v1/reflections", headers=headers).json()
    assert (p["id"] in {x["id"] for x in listed["items"]}) == (r.status_code == 200)
    # a filter cannot widen what a caller reads
    filtered = client.get(
        f"/api/v1/reflections?visibility={kind}&author_id={world.teacher_a.id}", headers=headers
    ).json()
    assert (p["id"] in {x["id"] for x in filtered["items"]}) == (r.status_code == 200)
    comments = client.get(f"/api/v1/reflections/{p['id']}/comments", headers=headers)
    assert comments.status_code == MATRIX[caller][kind]


def test_author_reads_all_and_others_cannot_edit(client, posts, world, auth):
    h = auth(world.teacher_a)
    listed = client.get("/api/v1/reflections", headers=h).json()
    assert [x["title"] for x in listed["items"]] == [
        "For everyone",
        "For my team",
        "Private thoughts",
    ]
    assert listed["items"][0]["author"]["id"] == str(world.teacher_a.id)
    url = f"/api/v1/reflections/{posts['program']['id']}"
    assert (
        client.patch(
            url, headers={**auth(world.teacher_b), "If-Match": "*"}, json={"title": "x"}
        ).status_code
        == 403
    )
    assert (
        client.delete(url, headers={**auth(world.district_admin), "If-Match": "*"}).status_code
        == 403
    )
    assert (
        client.patch(
            f"/api/v1/reflections/{posts['private']['id']}",
            headers={**auth(world.teacher_b), "If-Match": "*"},
            json={"title": "x"},
        ).status_code
        == 404
    )


def test_visibility_changes_and_if_match(client, posts, world, auth):
    h = auth(world.teacher_a)
    url = f"/api/v1/reflections/{posts['private']['id']}"
    assert (
        client.patch(url, headers={**h, "If-Match": "*"}, json={"visibility": "team"}).status_code
        == 422
    )  # no team linked
    r = client.patch(
        url, headers={**h, "If-Match": '"reflection-1"'}, json={"visibility": "program"}
    )
    assert r.status_code == 200
    assert r.headers["etag"] == '"reflection-2"'
    assert client.get(url, headers=auth(world.teacher_b)).status_code == 200
    assert (
        client.patch(
            url, headers={**h, "If-Match": '"reflection-1"'}, json={"title": "x"}
        ).status_code
        == 412
    )


def test_comments(client, posts, world, auth):
    url = f"/api/v1/reflections/{posts['program']['id']}/comments"
    r = client.post(url, headers=auth(world.teacher_b), json={"body": "Thanks for sharing!"})
    assert r.status_code == 201
    assert r.json()["author"]["id"] == str(world.teacher_b.id)
    assert (
        client.post(url, headers=auth(world.admin_b), json={"body": "Great work"}).status_code
        == 201
    )
    assert client.post(url, headers=auth(world.admin_b), json={"body": ""}).status_code == 422
    listed = client.get(url, headers=auth(world.teacher_a)).json()
    assert [c["body"] for c in listed["items"]] == ["Thanks for sharing!", "Great work"]
    assert (
        client.get(
            f"/api/v1/reflections/{posts['program']['id']}", headers=auth(world.teacher_a)
        ).json()["comment_count"]
        == 2
    )
    private = f"/api/v1/reflections/{posts['team']['id']}/comments"
    assert (
        client.post(private, headers=auth(world.teacher_b), json={"body": "hi"}).status_code == 404
    )
    assert (
        client.post(private, headers=auth(world.teacher_a2), json={"body": "hi"}).status_code == 201
    )


def test_a_comment_is_one_read_and_one_write_transaction(app, client, posts, world, auth):
    """The post (404 unless the caller reads it) with its author's standing for the
    notification, in one statement; then the comment and the author's notification, sent with
    the COMMIT (on PostgreSQL one round trip)."""
    from tests.test_query_counts import counting

    h = auth(world.teacher_b)
    client.get("/api/v1/me", headers=h)  # the caller's account is known
    url = f"/api/v1/reflections/{posts['program']['id']}/comments"
    with counting(app, cold=False) as statements:
        r = client.post(url, headers=h, json={"body": "Thanks"})
    assert r.status_code == 201, r.text
    shapes = [" ".join(sql.split()[:3]).replace('"', "") for sql in statements]
    assert [s.split()[0] for s in shapes] == ["SELECT", "INSERT", "INSERT"], statements
    assert shapes[1:] == ["INSERT INTO reflection_comment", "INSERT INTO notification"]


def test_links_must_be_the_authors_team(client, team, world, auth):
    assert (
        post(client, auth(world.teacher_b), visibility="team", team_id=team["id"]).status_code
        == 422
    )
    assert post(client, auth(world.teacher_a), visibility="team").status_code == 422
    assert (
        post(
            client, auth(world.teacher_a), team_id=team["id"], event_id=str(uuid.uuid4())
        ).status_code
        == 422
    )
    assert post(client, auth(world.teacher_a), event_id=str(uuid.uuid4())).status_code == 422
    assert post(client, auth(world.teacher_a), visibility="everyone").status_code == 422
    assert client.get("/api/v1/reflections", headers=auth(world.teacher_a)).json()["total"] == 0


def test_delete_hides_the_post(client, posts, world, auth):
    url = f"/api/v1/reflections/{posts['program']['id']}"
    assert client.delete(url, headers={**auth(world.teacher_a), "If-Match": "*"}).status_code == 204
    assert client.get(url, headers=auth(world.teacher_a)).status_code == 404
    assert client.get(url, headers=auth(world.teacher_b)).status_code == 404


def test_team_posts_vanish_with_a_deleted_team(client, posts, team, world, auth):
    client.delete(f"/api/v1/teams/{team['id']}", headers=auth(world.teacher_a))
    assert (
        client.get(
            f"/api/v1/reflections/{posts['team']['id']}", headers=auth(world.teacher_a2)
        ).status_code
        == 404
    )


@pytest.mark.parametrize("caller", ["anonymous", "read_key"])
def test_reflections_need_a_staff_account(client, posts, as_caller, caller):
    r = client.get("/api/v1/reflections", headers=as_caller(caller))
    assert r.status_code == (401 if caller == "anonymous" else 403)


def test_a_created_post_answers_what_a_read_of_it_answers(client, team, observation, world, auth):
    """The 201 (and an edit's 200) is built from what was written, not read back: it must be
    the post as its author reads it afterwards (links, author, comments, version, times), ETag
    included."""
    h = auth(world.teacher_a)
    bodies = [
        {"title": "Mine"},
        {"title": "Linked", "visibility": "team", "team_id": team["id"]},
        {"title": "On it", "team_id": team["id"], "event_id": observation["id"]},
    ]
    for body in bodies:
        created = post(client, h, **body)
        assert created.status_code == 201, created.text
        read = client.get(f"/api/v1/reflections/{created.json()['id']}", headers=h)
        assert created.json() == read.json()
        assert created.headers["etag"] == read.headers["etag"]
        comment = client.post(
            f"/api/v1/reflections/{created.json()['id']}/comments", headers=h, json={"body": "x"}
        )
        listed = client.get(f"/api/v1/reflections/{created.json()['id']}/comments", headers=h)
        assert listed.json()["items"] == [comment.json()]
        # An edit answers from the written row too (its comment counted), ETag included.
        edited = client.patch(
            f"/api/v1/reflections/{created.json()['id']}",
            headers={**h, "If-Match": created.headers["etag"]},
            json={"body": "Edited"},
        )
        assert edited.status_code == 200, edited.text
        read = client.get(f"/api/v1/reflections/{created.json()['id']}", headers=h)
        assert edited.json() == read.json()
        assert edited.json()["comment_count"] == 1
        assert edited.headers["etag"] == read.headers["etag"] != created.headers["etag"]


def test_a_post_links_only_to_a_team_you_are_on_and_to_its_events_and_records(
    client, world, factory, auth, observation, sync_engine
):
    """The links are checked in the transaction that writes the post: each wrong link is a
    422 naming its field, and nothing is written; the right ones are kept."""
    from sqlalchemy import func, select

    from app.reflections.models import Reflection
    from app.users.models import Role
    from tests.teams import form_team

    team_id = observation["team_id"]
    a = auth(world.teacher_a)
    record = client.post(
        f"/api/v1/events/{observation['id']}/observation-record",
        headers=a,
        json={"affirmations": ["x"]},
    ).json()
    other = form_team(client, auth, world.teacher_b, factory.user(Role.teacher, [world.school_b]))
    theirs = client.post(
        "/api/v1/events",
        headers=auth(world.teacher_b),
        json={"team_id": other["id"], "kind": "other", "title": "Theirs",
              "starts_at": "2026-10-02T15:00:00Z", "ends_at": "2026-10-02T16:00:00Z"},
    ).json()  # fmt: skip
    unknown = str(uuid.uuid4())
    refused = [
        (a, {"team_id": other["id"]}, "team_id"),
        (a, {"team_id": unknown}, "team_id"),
        (auth(world.admin_a), {"team_id": team_id}, "team_id"),  # an administrator is no member
        (auth(world.teacher_a3), {"team_id": team_id}, "team_id"),  # same school, not on it
        (a, {"team_id": team_id, "event_id": theirs["id"]}, "event_id"),
        (a, {"team_id": team_id, "event_id": unknown}, "event_id"),
        (a, {"team_id": team_id, "observation_record_id": unknown}, "observation_record_id"),
    ]
    for headers, links, field in refused:
        r = post(client, headers, title="Refused link", visibility="team", **links)
        assert r.status_code == 422, (links, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert field in r.text, (links, r.text)
    with sync_engine.connect() as conn:
        written = conn.execute(
            select(func.count()).where(Reflection.title == "Refused link")  # type: ignore[arg-type]
        ).scalar_one()
    assert written == 0
    linked = {
        "team_id": team_id,
        "event_id": observation["id"],
        "observation_record_id": record["id"],
    }
    r = post(client, a, title="Linked", visibility="team", **linked)
    assert r.status_code == 201, r.text
    assert {k: r.json()[k] for k in linked} == linked


def test_a_list_is_read_by_parts_past_posts_the_reader_cannot_see(client, team, world, auth):
    """A list reads each part of what its reader may see (their own posts, others' program
    posts, others' posts on their teams) newest first, and sorts those: the newest posts of
    the district being ones the reader may not see (teacher B's private posts, teacher A3's)
    changes nothing, pages go through every part in order with none twice, and the capped
    total counts across parts."""
    a, a2 = auth(world.teacher_a), auth(world.teacher_a2)
    made = [post(client, a, title=f"Program {i}", visibility="program") for i in range(3)]
    made += [
        post(client, a, title=f"Team {i}", visibility="team", team_id=team["id"]) for i in range(2)
    ]
    made += [post(client, a2, title=f"Mine {i}") for i in range(2)]
    for who in (world.teacher_b, world.teacher_a3, world.teacher_a):  # newer, unseen by A2
        for i in range(4):
            post(client, auth(who), title=f"Private {i}")
    assert all(r.status_code == 201 for r in made), [r.text for r in made]

    def newest_first(ids, headers):
        """The posts in the lists' order: newest first, ties by id."""
        read = [client.get(f"/api/v1/reflections/{i}", headers=headers).json() for i in ids]
        read.sort(key=lambda p: p["id"])
        read.sort(key=lambda p: datetime.fromisoformat(p["created_at"]), reverse=True)
        return [p["id"] for p in read]

    def pages(headers, limit):
        seen, offset = [], 0
        while True:
            page = client.get(
                f"/api/v1/reflections?limit={limit}&offset={offset}", headers=headers
            ).json()
            seen += [p["id"] for p in page["items"]]
            if page["next"] is None:
                return seen, page
            offset += limit

    expected = newest_first([r.json()["id"] for r in made], a2)
    listed, last = pages(a2, 2)
    assert listed == expected
    assert (last["total"], last["total_exact"]) == (7, True)
    first = client.get("/api/v1/reflections?limit=1", headers=a2).json()
    assert (first["total"], first["total_exact"]) == (5, False)  # capped at five pages
    assert first["items"][0]["id"] == expected[0]

    program = newest_first([r.json()["id"] for r in made[:3]], a2)
    admin = auth(world.district_admin)
    assert pages(admin, 2)[0] == program
    assert pages(auth(world.teacher_b), 2)[0][-3:] == program  # after B's own, newer
