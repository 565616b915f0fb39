import pytest

ALL_CALLERS = [
    "anonymous",
    "teacher",
    "other_teacher",
    "school_admin",
    "other_school_admin",
    "district_admin",
    "read_key",
    "roster_key",
]


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("teacher", 200),
        ("other_teacher", 200),
        ("school_admin", 200),
        ("other_school_admin", 200),
        ("district_admin", 200),
        ("read_key", 200),
        ("roster_key", 403),
    ],
)
def test_list_schools_by_caller(client, world, auth, caller, status):
    r = client.get("/api/v1/schools", headers=auth(world.caller(caller)))
    assert r.status_code == status
    if status == 200:
        body = r.json()
        assert [s["name"] for s in body["items"]] == ["Alpha School", "Beta School"]
        assert (body["total"], body["limit"], body["offset"], body["next"]) == (2, 50, 0, None)


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
def test_create_school_by_caller(client, world, auth, caller, status):
    r = client.post(
        "/api/v1/schools",
        headers=auth(world.caller(caller)),
        json={"name": "Gamma School", "time_zone": "America/Denver"},
    )
    assert r.status_code == status
    names = [
        s["name"]
        for s in client.get("/api/v1/schools", headers=auth(world.district_admin)).json()["items"]
    ]
    assert ("Gamma School" in names) == (status == 201)


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("teacher", 403),
        ("school_admin", 403),
        ("district_admin", 200),
        ("read_key", 403),
    ],
)
def test_update_school_by_caller(client, world, auth, caller, status):
    r = client.patch(
        f"/api/v1/schools/{world.school_a.id}",
        headers=auth(world.caller(caller)),
        json={"time_zone": "Europe/Berlin"},
    )
    assert r.status_code == status
    got = client.get(
        f"/api/v1/schools/{world.school_a.id}", headers=auth(world.district_admin)
    ).json()
    assert got["time_zone"] == ("Europe/Berlin" if status == 200 else "America/Chicago")


def test_school_validation_and_conflicts(client, world, auth):
    h = auth(world.district_admin)
    r = client.post("/api/v1/schools", headers=h, json={"name": "X", "time_zone": "Mars/Olympus"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.time_zone"
    r = client.post("/api/v1/schools", headers=h, json={"name": "alpha school", "time_zone": "UTC"})
    assert r.status_code == 409
    r = client.post("/api/v1/schools", headers=h, json={"name": "", "time_zone": "UTC"})
    assert r.status_code == 422
    r = client.post("/api/v1/schools", headers=h, json={"name": "x" * 201, "time_zone": "UTC"})
    assert r.status_code == 422
    r = client.patch(
        f"/api/v1/schools/{world.school_b.id}", headers=h, json={"name": "Alpha School"}
    )
    assert r.status_code == 409
    r = client.patch(
        f"/api/v1/schools/{world.school_a.id}", headers=h, json={"name": "Alpha School"}
    )
    assert r.status_code == 200  # renaming to its own name is no conflict
    assert client.get("/api/v1/schools", headers=h).json()["total"] == 2


def test_unknown_school_is_404(client, world, auth):
    import uuid

    r = client.get(f"/api/v1/schools/{uuid.uuid4()}", headers=auth(world.teacher_a))
    assert r.status_code == 404


def test_pagination_and_search(client, factory, world, auth):
    for i in range(5):
        factory.school(f"Extra {i}")
    h = auth(world.teacher_a)
    page1 = client.get("/api/v1/schools?limit=3", headers=h).json()
    assert [s["name"] for s in page1["items"]] == ["Alpha School", "Beta School", "Extra 0"]
    assert page1["total"] == 7
    page2 = client.get(page1["next"], headers=h).json()
    assert [s["name"] for s in page2["items"]] == ["Extra 1", "Extra 2", "Extra 3"]
    page3 = client.get(page2["next"], headers=h).json()
    assert [s["name"] for s in page3["items"]] == ["Extra 4"]
    assert page3["next"] is None
    found = client.get("/api/v1/schools?q=ALPH", headers=h).json()
    assert [s["name"] for s in found["items"]] == ["Alpha School"]
    assert client.get("/api/v1/schools?q=%25", headers=h).json()["total"] == 0  # % is literal
    beyond = client.get("/api/v1/schools?offset=100", headers=h).json()
    assert beyond["items"] == []
    assert beyond["total"] == 7
    factory.school("Top 10% Club_House")
    for text in ("10%", "B_H", "%", "_"):  # LIKE's wildcards are plain text in a search
        found = client.get("/api/v1/schools", params={"q": text}, headers=h).json()
        assert [s["name"] for s in found["items"]] == ["Top 10% Club_House"], text
