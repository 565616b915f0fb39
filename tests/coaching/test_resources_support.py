import uuid

import pytest

from app.focus_areas.catalog import suggested_focus_area_id

GUIDED = str(suggested_focus_area_id("Guided reading"))


def a_resource(**over):
    return {
        "title": "Questioning handbook",
        "url": "https://example.org/handbook.pdf",
        "focus_area_ids": [GUIDED],
    } | over


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("teacher", 403),
        ("school_admin", 201),
        ("district_admin", 201),
        ("read_key", 403),
    ],
)
def test_create_resource_by_caller(client, world, auth, caller, status):
    r = client.post("/api/v1/resources", headers=auth(world.caller(caller)), json=a_resource())
    assert r.status_code == status
    total = client.get("/api/v1/resources", headers=auth(world.teacher_b)).json()["total"]
    assert total == (1 if status == 201 else 0)


def test_resource_validation(client, world, auth):
    h = auth(world.admin_a)
    assert client.post("/api/v1/resources", headers=h, json={"title": "Nothing"}).status_code == 422
    assert (
        client.post(
            "/api/v1/resources", headers=h, json=a_resource(url="javascript:alert(1)")
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/resources", headers=h, json=a_resource(focus_area_ids=[str(uuid.uuid4())])
        ).status_code
        == 422
    )
    r = client.post(
        "/api/v1/resources", headers=h, json={"title": "Notes", "body": "Read chapter 3"}
    )
    assert r.status_code == 201
    assert r.json()["url"] is None
    assert (
        client.patch(
            f"/api/v1/resources/{r.json()['id']}", headers=h, json={"body": None}
        ).status_code
        == 422
    )


def test_teachers_mark_resources_reviewed(client, world, auth):
    rid = client.post("/api/v1/resources", headers=auth(world.admin_a), json=a_resource()).json()[
        "id"
    ]
    client.post(
        "/api/v1/resources",
        headers=auth(world.admin_a),
        json=a_resource(title="Another", focus_area_ids=[]),
    )
    h = auth(world.teacher_a)
    r = client.put(f"/api/v1/resources/{rid}/review", headers=h)
    assert r.status_code == 200
    assert r.json()["reviewed_by_me"] is True
    assert r.json()["reviewed_at"]
    assert (
        client.get(f"/api/v1/resources/{rid}", headers=auth(world.teacher_b)).json()[
            "reviewed_by_me"
        ]
        is False
    )
    assert [
        x["title"]
        for x in client.get("/api/v1/resources?reviewed=false", headers=h).json()["items"]
    ] == ["Another"]
    # Another reader's review is theirs: one row per resource, each caller's own mark.
    assert client.put(f"/api/v1/resources/{rid}/review", headers=auth(world.teacher_b)).is_success
    mine = client.get("/api/v1/resources", headers=h).json()
    assert mine["total"] == 2
    assert sorted((x["title"], x["reviewed_by_me"]) for x in mine["items"]) == [
        ("Another", False),
        ("Questioning handbook", True),
    ]
    reviewed = client.get("/api/v1/resources?reviewed=true", headers=h).json()
    assert [x["id"] for x in reviewed["items"]] == [rid]
    assert reviewed["total"] == 1
    assert [
        x["id"]
        for x in client.get(f"/api/v1/resources?focus_area_id={GUIDED}", headers=h).json()["items"]
    ] == [rid]
    assert (
        client.delete(f"/api/v1/resources/{rid}/review", headers=h).json()["reviewed_by_me"]
        is False
    )
    assert client.delete(f"/api/v1/resources/{rid}", headers=h).status_code == 403
    assert client.delete(f"/api/v1/resources/{rid}", headers=auth(world.admin_b)).status_code == 204
    assert client.get(f"/api/v1/resources/{rid}", headers=h).status_code == 404


@pytest.fixture
def support(client, world, auth):
    r = client.post(
        "/api/v1/support-requests",
        headers=auth(world.teacher_a),
        json={
            "kind": "resources",
            "subject": "Books for guided reading",
            "message": "Leveled readers?",
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("teacher", 200),
        ("other_teacher", 404),
        ("school_admin", 200),
        ("other_school_admin", 404),
        ("district_admin", 200),
        ("read_key", 403),
    ],
)
def test_read_support_request_by_caller(client, support, world, auth, caller, status):
    assert (
        client.get(
            f"/api/v1/support-requests/{support['id']}", headers=auth(world.caller(caller))
        ).status_code
        == status
    )


def test_answer_and_close(client, support, world, auth):
    url = f"/api/v1/support-requests/{support['id']}"
    assert (
        client.post(
            f"{url}/answer", headers=auth(world.teacher_a), json={"answer": "x"}
        ).status_code
        == 403
    )
    assert (
        client.post(f"{url}/answer", headers=auth(world.admin_b), json={"answer": "x"}).status_code
        == 404
    )
    r = client.post(
        f"{url}/answer", headers=auth(world.admin_a), json={"answer": "Ordered a set for you"}
    )
    assert r.status_code == 200
    assert r.json()["status"] == "answered"
    assert (
        client.get(url, headers=auth(world.teacher_a)).json()["answer"] == "Ordered a set for you"
    )
    assert client.post(f"{url}/close", headers=auth(world.teacher_a)).json()["status"] == "closed"
    assert client.post(f"{url}/close", headers=auth(world.teacher_a)).status_code == 409
    assert (
        client.post(
            f"{url}/answer", headers=auth(world.admin_a), json={"answer": "again"}
        ).status_code
        == 409
    )
    queue = client.get("/api/v1/support-requests?status=open", headers=auth(world.admin_a)).json()
    assert queue["total"] == 0


def test_support_request_rules(client, world, auth, factory):
    h = auth(world.teacher_a)
    url = "/api/v1/support-requests"
    body = {"kind": "support", "subject": "Help", "message": "Please"}
    assert (
        client.post(url, headers=h, json=body | {"school_id": str(world.school_b.id)}).status_code
        == 422
    )
    assert (
        client.post(url, headers=h, json=body | {"team_id": str(uuid.uuid4())}).status_code == 422
    )
    assert client.post(url, headers=h, json=body | {"kind": "money"}).status_code == 422
    assert client.post(url, headers=h, json=body | {"message": ""}).status_code == 422
    assert client.get(url, headers=auth(world.admin_a)).json()["total"] == 0


def test_a_created_resource_answers_what_a_read_of_it_answers(client, world, auth):
    """The 201 is built from what was written: the library's own answer, tags in its order
    (by id, each once), not reviewed by anyone yet."""
    from app.focus_areas.catalog import SUGGESTED_FOCUS_AREAS

    tags = [str(suggested_focus_area_id(name)) for name in SUGGESTED_FOCUS_AREAS[:4]]
    admin = auth(world.admin_a)
    for body in (a_resource(focus_area_ids=[*tags, tags[0]]), a_resource(url=None, body="Text")):
        created = client.post("/api/v1/resources", headers=admin, json=body)
        assert created.status_code == 201, created.text
        read = client.get(f"/api/v1/resources/{created.json()['id']}", headers=admin)
        assert created.json() == read.json()
    # Changes answer from the written row and what is read beside it (tags, your review).
    url = f"/api/v1/resources/{created.json()['id']}"
    teacher = auth(world.teacher_a)
    for who, change in (
        (admin, lambda: client.patch(url, headers=admin, json={"focus_area_ids": tags[1:3]})),
        (admin, lambda: client.patch(url, headers=admin, json={"title": "Renamed"})),
        (teacher, lambda: client.put(f"{url}/review", headers=teacher)),
        (teacher, lambda: client.delete(f"{url}/review", headers=teacher)),
    ):
        answer = change()
        assert answer.status_code == 200, answer.text
        assert answer.json() == client.get(url, headers=who).json()
    assert answer.json()["title"] == "Renamed"
    assert answer.json()["focus_area_ids"] == sorted(tags[1:3])
