"""Comments are edited and deleted by their authors and hidden by administrators; a program
post is hidden by a district administrator with a reason its author reads."""

ANY = {"If-Match": "*"}


def _program_post(client, auth, author):
    r = client.post(
        "/api/v1/reflections",
        headers=auth(author),
        json={"title": "On the blog", "body": "What we tried", "visibility": "program"},
    )
    assert r.status_code == 201, r.text
    return r.json()


def _comment(client, auth, who, post, body="Nice"):
    r = client.post(
        f"/api/v1/reflections/{post['id']}/comments", headers=auth(who), json={"body": body}
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_the_author_edits_and_deletes_a_comment(client, world, auth):
    post = _program_post(client, auth, world.teacher_a)
    comment = _comment(client, auth, world.teacher_a2, post)
    url = f"/api/v1/reflections/{post['id']}/comments/{comment['id']}"
    mine = auth(world.teacher_a2)
    assert client.patch(url, headers=mine, json={"body": "x"}).status_code == 428
    r = client.patch(url, headers={**auth(world.teacher_a), **ANY}, json={"body": "x"})
    assert r.status_code == 403  # the post's author does not edit others' comments
    r = client.patch(url, headers={**mine, "If-Match": '"comment-1"'}, json={"body": "Nicer"})
    assert r.status_code == 200, r.text
    assert r.json()["body"] == "Nicer"
    assert r.headers["etag"] == '"comment-2"'
    stale = client.delete(url, headers={**mine, "If-Match": '"comment-1"'})
    assert stale.status_code == 412
    assert client.delete(url, headers={**mine, "If-Match": '"comment-2"'}).status_code == 204
    listed = client.get(f"/api/v1/reflections/{post['id']}/comments", headers=mine).json()
    assert listed["items"] == []
    assert client.patch(url, headers={**mine, **ANY}, json={"body": "y"}).status_code == 404


def test_administrators_hide_a_comment(client, world, auth):
    post = _program_post(client, auth, world.teacher_a)
    comment = _comment(client, auth, world.teacher_a2, post, "Off topic")
    kept = _comment(client, auth, world.teacher_a, post, "Thanks")
    url = f"/api/v1/reflections/{post['id']}/comments/{comment['id']}/hide"
    assert client.post(url, headers=auth(world.teacher_a)).status_code == 403
    assert client.post(url, headers=auth(world.admin_b)).status_code == 204
    listed = client.get(
        f"/api/v1/reflections/{post['id']}/comments", headers=auth(world.teacher_a2)
    ).json()
    assert [c["id"] for c in listed["items"]] == [kept["id"]]
    read = client.get(f"/api/v1/reflections/{post['id']}", headers=auth(world.teacher_a2)).json()
    assert read["comment_count"] == 1


def test_a_district_administrator_hides_a_program_post_saying_why(client, world, auth):
    post = _program_post(client, auth, world.teacher_a)
    url = f"/api/v1/reflections/{post['id']}"
    reason = {"reason": "Names a student"}
    assert client.post(f"{url}/hide", headers=auth(world.admin_a), json=reason).status_code == 403
    assert (
        client.post(f"{url}/hide", headers=auth(world.district_admin), json={}).status_code == 422
    )
    r = client.post(f"{url}/hide", headers=auth(world.district_admin), json=reason)
    assert r.status_code == 204
    for reader in (world.teacher_a2, world.admin_a, world.district_admin):
        assert client.get(url, headers=auth(reader)).status_code == 404
        listed = client.get("/api/v1/reflections", headers=auth(reader)).json()["items"]
        assert post["id"] not in {p["id"] for p in listed}
    own = client.get(url, headers=auth(world.teacher_a)).json()
    assert own["hidden_reason"] == "Names a student"
    assert own["hidden_at"] is not None


def test_private_and_team_posts_are_no_administrators_to_hide(client, world, auth, team):
    r = client.post(
        "/api/v1/reflections",
        headers=auth(world.teacher_a),
        json={"title": "Ours", "body": "b", "visibility": "team", "team_id": team["id"]},
    )
    url = f"/api/v1/reflections/{r.json()['id']}/hide"
    r = client.post(url, headers=auth(world.district_admin), json={"reason": "x"})
    assert r.status_code == 404  # they cannot see it, so it does not exist for them
