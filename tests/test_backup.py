"""``flask --app wsgi practice backup PATH``: a consistent SQLite copy made
while gunicorn (2 workers) keeps writing, restored and read back through the
API; on PostgreSQL the command points to pg_dump.

The backup test uses its own SQLite file whatever engine this run tests: the
command is SQLite's (PostgreSQL's way is pg_dump, in the README).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import requests
from flask_migrate import upgrade

from practice import create_app
from practice.auth import issue_token
from practice.extensions import db
from practice.services.accounts import create_user
from server_helpers import gunicorn_server

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))


def _migrated_sqlite(path: Path, tmp: Path) -> str:
    """A migrated SQLite file with one admin; returns the admin's token."""
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}",
                      "SECRET_KEY": "test", "INSTANCE_PATH": str(tmp / "instance"),
                      "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}})
    with app.app_context():
        upgrade()
        user = create_user("backup-admin@test.example", "admin", "correct horse battery")
        token, _ = issue_token(user)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return token


def _backup(database: Path, target: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "test",
           "PRACTICE_PLUGINS": ""}
    env.pop("TEST_DATABASE_URL", None)
    return subprocess.run([FLASK, "--app", "wsgi", "practice", "backup", str(target), *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_backup_while_serving_is_consistent_and_restores(tmp_path):
    live = tmp_path / "live.sqlite3"
    token = _migrated_sqlite(live, tmp_path)
    auth = {"Authorization": f"Bearer {token}"}
    copy = tmp_path / "backup.sqlite3"
    with gunicorn_server(f"sqlite:///{live}", workers=2) as server:
        stop = threading.Event()
        created: list[int] = []

        def write():
            http = requests.Session()
            n = 0
            while not stop.is_set():
                n += 1
                r = http.post(server.url + "/api/clients", headers=auth, timeout=30,
                              json={"name": f"Backup Person{n}", "phone": str(n)})
                assert r.status_code == 201, r.text
                created.append(r.json()["id"])

        writers = [threading.Thread(target=write) for _ in range(2)]
        for t in writers:
            t.start()
        try:
            while len(created) < 20:
                threading.Event().wait(0.05)
            done = _backup(live, copy)
            written_during = len(created)
        finally:
            stop.set()
            for t in writers:
                t.join(30)
        assert done.returncode == 0, done.stderr
        assert "integrity ok" in done.stdout
        assert len(created) > 20  # the app kept serving writes

    # one snapshot: each client's row and its audit row came in one transaction
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        clients = [r[0] for r in conn.execute("SELECT id FROM clients ORDER BY id")]
        audited = [r[0] for r in conn.execute(
            "SELECT object_id FROM audit_log WHERE object_type = 'client' "
            "AND action = 'create' ORDER BY object_id")]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert clients == audited
    assert 20 <= len(clients) <= written_during + 2
    assert clients == sorted(created)[:len(clients)]
    assert mode == "delete"  # one self-contained file, no -wal beside it
    assert not Path(str(copy) + ".partial").exists()

    # the restore drill: the copy, put in place, serves what it holds
    restored = tmp_path / "restored.sqlite3"
    shutil.copyfile(copy, restored)
    with gunicorn_server(f"sqlite:///{restored}", workers=2) as server:
        r = requests.get(server.url + "/api/clients?limit=500", headers=auth, timeout=30)
        assert r.status_code == 200, r.text
        assert [c["id"] for c in r.json()["items"]] == clients
        r = requests.post(server.url + "/api/clients", headers=auth, timeout=30,
                          json={"name": "After Restore"})
        assert r.status_code == 201


def test_backup_refuses_to_overwrite_or_copy_onto_itself(tmp_path):
    live = tmp_path / "live.sqlite3"
    _migrated_sqlite(live, tmp_path)
    target = tmp_path / "exists.sqlite3"
    target.write_bytes(b"keep me")
    done = _backup(live, target)
    assert done.returncode != 0 and "--force" in done.stderr
    assert target.read_bytes() == b"keep me"
    done = _backup(live, live)
    assert done.returncode != 0 and "database itself" in done.stderr
    done = _backup(live, tmp_path / "no-such-folder" / "x.sqlite3")
    assert done.returncode != 0 and "does not exist" in done.stderr
    done = _backup(live, target, "--force")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 1


def test_backup_on_postgresql_points_to_pg_dump(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL") or \
        "postgresql+psycopg://nobody:nothing@127.0.0.1:1/none"
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test",
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    result = app.test_cli_runner().invoke(args=["practice", "backup",
                                                str(tmp_path / "x.sqlite3")])
    assert result.exit_code != 0
    assert "pg_dump" in result.output and "pg_restore" in result.output
    assert not (tmp_path / "x.sqlite3").exists()
