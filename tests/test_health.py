def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz_reports_head_migration(client):
    from app.core.migrations import head_revision

    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "migration": head_revision()}
