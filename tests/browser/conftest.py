"""Browser tests: Debian's Chromium, driven by Playwright, against a live
gunicorn (2 workers) on a real database holding the demo practice.

The database is this run's own: a SQLite file, or (with ``TEST_DATABASE_URL``)
a ``<name>_browser`` database created beside the test database on the same
PostgreSQL server. It is migrated and filled with the demo once per run and
shared by every browser test, so each test makes its own clients and courses
(or picks clinicians and times no other test uses).

Playwright's own browser download cannot be reached from here: the tests
launch the system's Chromium (``CHROMIUM`` or /usr/bin/chromium). Without it
they are skipped, except under CI (``CI=true``), where a missing browser fails.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # server_helpers

from server_helpers import gunicorn_server  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("PRACTICE_TEST_ARTIFACTS", ROOT / "test-artifacts"))
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-dev-shm-usage"]

# The demo's logins (practice/demo.py), one per role.
LOGINS = {
    "admin": ("admin@demo.practice", "demo-admin-1"),
    "front_desk": ("frontdesk@demo.practice", "demo-frontdesk-1"),
    "clinician": ("okafor@demo.practice", "demo-clinician-1"),
}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.fspath)).resolve().parent == here:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def _browser_database_url(tmp_path_factory) -> str:
    pg = os.environ.get("TEST_DATABASE_URL")
    if not pg:
        return f"sqlite:///{tmp_path_factory.mktemp('browser-db') / 'browser.sqlite3'}"
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(pg)
    name = f"{url.database}_browser"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


class LiveServer:
    def __init__(self, url: str, database_url: str, server) -> None:
        self.url = url
        self.database_url = database_url
        self.server = server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """gunicorn (2 workers, IPT enabled) on a migrated database with the demo."""
    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("no Chromium here (apt-get install chromium)")
    from flask_migrate import upgrade

    from practice import create_app
    from practice.demo import load_demo
    from practice.extensions import db

    for stale in ARTIFACTS.glob("FAILED-*.png"):  # only this run's failures are shown
        stale.unlink()
    url = _browser_database_url(tmp_path_factory)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests",
                      "INSTANCE_PATH": str(tmp_path_factory.mktemp("browser-instance")),
                      "PRACTICE_PLUGINS": "ipt", "PRACTICE_TIMEZONE": "Europe/London"})
    with app.app_context():
        upgrade()
        load_demo()
        db.session.remove()
        db.engine.dispose()
    env = {"PRACTICE_PLUGINS": "ipt", "PRACTICE_NAME": "Demo Practice"}
    with gunicorn_server(url, workers=2, env=env) as server:
        yield LiveServer(server.url, url, server)


@pytest.fixture(scope="session")
def _playwright():
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="session")
def browser(_playwright, live_server):
    b = _playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                    args=CHROMIUM_FLAGS)
    yield b
    b.close()


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser context (no cookies) and page, 1280 x 900."""
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  base_url=live_server.url, locale="en-GB",
                                  timezone_id="Europe/London")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            pg.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name[:80]}.png"),
                          full_page=True)
        except Exception:  # noqa: BLE001 - a failed screenshot must not hide the failure
            pass
    context.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item.rep_call = rep


@pytest.fixture
def sign_in(live_server):
    """``sign_in(page, role, next_path=None)``: through the form, keyboard only."""

    def go(pg, role: str = "front_desk", next_path: str | None = None):
        email, password = LOGINS[role]
        target = "/sign-in" + (f"?next={requests.utils.quote(next_path, safe='')}"
                               if next_path else "")
        pg.goto(target)
        pg.locator("#email").focus()
        pg.keyboard.type(email)
        pg.keyboard.press("Tab")
        pg.keyboard.type(password)
        with pg.expect_navigation():
            pg.keyboard.press("Enter")
        assert "/sign-in" not in pg.url, f"sign-in failed for {role}"
        return pg

    return go


class ApiSession(requests.Session):
    """requests with a bearer token for one demo role; ``base`` is the server."""

    def __init__(self, base: str, token: str) -> None:
        super().__init__()
        self.base = base
        self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", 30)
        return super().request(method, self.base + url if url.startswith("/") else url,
                               *args, **kwargs)


@pytest.fixture(scope="session")
def api(live_server):
    """``api("front_desk").get("/api/courses")``: the database's view of things."""
    sessions: dict[str, ApiSession] = {}

    def get(role: str = "admin") -> ApiSession:
        if role not in sessions:
            email, password = LOGINS[role]
            r = requests.post(live_server.url + "/api/tokens",
                              json={"email": email, "password": password}, timeout=30)
            assert r.status_code == 201, r.text
            sessions[role] = ApiSession(live_server.url, r.json()["token"])
        return sessions[role]

    return get


@pytest.fixture
def axe_check(live_server):
    """Run axe-core (vendored from npm) in the page; fail on serious or critical."""

    def check(pg, context: str = ""):
        if not pg.evaluate("() => typeof window.axe !== 'undefined'"):
            pg.add_script_tag(url=live_server.url + "/static/vendor/axe-core/axe.min.js")
        violations = pg.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }""")
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not bad, f"axe-core on {context or pg.url}: {bad}"
        return violations

    return check


@pytest.fixture
def artifact():
    """``artifact("calendar-1280.png")`` -> a path under test-artifacts/."""

    def path(name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        return ARTIFACTS / name

    return path
