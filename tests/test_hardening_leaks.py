"""Issue 10, item 4: nothing leaks. A clinician's searches and 409 answers
stay within their own work; feed text shows a course label only at privacy
``full``; access logs never hold a feed token; API answers are never cached;
production never builds links from the Host header."""
from __future__ import annotations

import logging
import sys
from datetime import date, time

import pytest
from feeds_factory import feed_link, make_course
from icalendar import Calendar

from practice import create_app
from practice.errors import ConfigurationError
from practice.extensions import db
from practice.feeds.logfilter import RedactFeedTokens, redact

sys.path.insert(0, __file__.rsplit("/", 1)[0])  # feeds_factory, as the other feed tests


# -- availability -------------------------------------------------------------
@pytest.fixture
def two_clinicians(api_as, make_clinician, make_room):
    mine, theirs = make_clinician("Dr Mine"), make_clinician("Dr Theirs")
    make_room("Room A")
    me = api_as("clinician", clinician_id=mine)
    return {"me": me, "mine": mine, "theirs": theirs}


AV = "/api/availability?weeks=2&duration_minutes=50&from=2031-03-03&limit=200"


def test_clinician_cannot_search_another_clinicians_availability(two_clinicians):
    me, theirs = two_clinicians["me"], two_clinicians["theirs"]
    r = me.get(AV + f"&clinician_id={theirs}")
    assert r.status_code == 404, r.json
    assert "slots" not in r.json


def test_clinician_modality_search_covers_only_themselves(two_clinicians, api_as):
    me, mine, theirs = (two_clinicians[k] for k in ("me", "mine", "theirs"))
    r = me.get(AV + "&modality=general")
    assert r.status_code == 200, r.json
    assert r.json["slots"] and {s["clinician_id"] for s in r.json["slots"]} == {mine}
    desk = api_as("front_desk")
    everyone = {s["clinician_id"] for s in desk.get(AV + "&modality=general").json["slots"]}
    assert everyone == {mine, theirs}


def test_clinician_own_search_still_works(two_clinicians):
    me, mine = two_clinicians["me"], two_clinicians["mine"]
    r = me.get(AV + f"&clinician_id={mine}")
    assert r.status_code == 200 and r.json["slots"], r.json


# -- 409 answers --------------------------------------------------------------
@pytest.fixture
def clash(api_as, make_clinician, make_room, make_client):
    """My course on Tuesdays at 10:00; another clinician's course on the
    Wednesdays at 10:00 in the same room, with a client we share."""
    mine, theirs = make_clinician("Dr Mine"), make_clinician("Dr Theirs")
    room = make_room("Room A")
    shared, other = make_client("Shared Person"), make_client("Other Person")
    desk = api_as("front_desk")
    common = {"room_id": room, "start_time": "10:00", "duration_minutes": 50,
              "session_count": 2}
    my_course = desk.post("/api/courses", json={**common, "clinician_id": mine,
                                                "client_ids": [shared],
                                                "first_date": "2031-03-04"}).json
    their_course = desk.post("/api/courses", json={**common, "clinician_id": theirs,
                                                   "client_ids": [shared, other],
                                                   "first_date": "2031-03-05"})
    # A room of capacity 1 cannot hold two clients: give their course its own
    # room, then a second one-client course in my room on Wednesdays.
    if their_course.status_code != 201:
        room2 = make_room("Room B", capacity=4)
        their_course = desk.post("/api/courses", json={
            **common, "room_id": room2, "clinician_id": theirs, "client_ids": [shared, other],
            "first_date": "2031-03-05"})
    assert their_course.status_code == 201, their_course.json
    in_my_room = desk.post("/api/courses", json={**common, "clinician_id": theirs,
                                                 "client_ids": [other], "start_time": "12:00",
                                                 "first_date": "2031-03-05"})
    assert in_my_room.status_code == 201, in_my_room.json
    me = api_as("clinician", clinician_id=mine)
    return {"me": me, "desk": desk, "course": my_course, "theirs": their_course.json,
            "in_my_room": in_my_room.json}


def _all_session_refs(conflicts):
    return [c.get("session") for conflict in conflicts for c in conflict["clashes"]]


@pytest.mark.parametrize("when", ["10:00", "12:00"])  # the client; the room
@pytest.mark.parametrize("dry_run", [False, True])
def test_clinicians_409_names_no_other_clinicians_session(clash, when, dry_run):
    url = f"/api/courses/{clash['course']['id']}/sessions/1/reschedule"
    body = {"date": "2031-03-05", "start_time": when, "dry_run": dry_run}
    r = clash["me"].post(url, json=body)
    assert r.status_code == (200 if dry_run else 409), r.json
    conflicts = r.json["conflicts"]
    assert conflicts
    text = str(r.json)
    other_ids = {clash["theirs"]["id"], clash["in_my_room"]["id"]}
    for ref in _all_session_refs(conflicts):
        assert ref is None or ("course_id" not in ref and "session_id" not in ref), ref
    for conflict in conflicts:
        for c in conflict["clashes"]:
            assert c["busy"] is True and c["starts_at"] and c["ends_at"]
    assert "Other Person" not in text and "Dr Theirs" not in text
    # Front desk asking the same keeps the detail.
    full = clash["desk"].post(url, json=body).json
    refs = _all_session_refs(full["conflicts"])
    assert {ref["course_id"] for ref in refs if ref} & other_ids


def test_clinicians_own_sessions_stay_named(clash):
    """A clash with the clinician's own course is theirs to see."""
    url = f"/api/courses/{clash['course']['id']}/sessions/1/reschedule"
    r = clash["me"].post(url, json={"date": "2031-03-11", "start_time": "10:00",
                                    "dry_run": True})
    assert r.status_code == 200, r.json
    refs = _all_session_refs(r.json["conflicts"])
    assert refs and all(ref["course_id"] == clash["course"]["id"] for ref in refs if ref)


# -- feeds: a course label only at privacy full --------------------------------
@pytest.fixture
def group(app, make_clinician, make_room, make_client):
    app.config["FEED_TODAY"] = "2031-03-01"
    clinician, room = make_clinician("Dr Group"), make_room("Group room", capacity=8)
    members = [make_client(n) for n in ("Xavier Yolo", "Wanda Vex")]
    with app.app_context():
        make_course(clinician_id=clinician, room_id=room, client_ids=members,
                    first=date(2031, 3, 4), start=time(10), weeks=1, label="Tuesday group",
                    tz="Europe/London")
        # An IPT group course, while the IPT plugin is off (PRACTICE_PLUGINS="").
        make_course(clinician_id=clinician, room_id=room, client_ids=members,
                    first=date(2031, 3, 5), start=time(10), weeks=1, modality="ipt",
                    label="IPT group Tuesdays", tz="Europe/London")
        make_course(clinician_id=clinician, room_id=room, client_ids=members,
                    first=date(2031, 3, 6), start=time(10), weeks=1, modality="ipt",
                    label="Thursday circle", tz="Europe/London")
    return clinician


def _summaries(app, client, privacy, clinician):
    with app.app_context():
        path = feed_link(clinician_id=clinician, privacy=privacy)
    body = client.get(path, buffered=True).data
    return [str(e["SUMMARY"]) for e in Calendar.from_ical(body).walk("VEVENT")]


@pytest.mark.parametrize("privacy", ["busy", "initials"])
def test_labels_stay_out_of_feeds_below_full(app, client, group, privacy):
    summaries = _summaries(app, client, privacy, group)
    assert len(summaries) == 3
    text = " ".join(summaries)
    for label in ("Tuesday", "IPT", "Thursday", "circle"):
        assert label not in text, summaries


def test_full_feed_shows_labels_but_never_a_modality(app, client, group):
    summaries = _summaries(app, client, "full", group)
    assert summaries == ["Group: Tuesday group", "Group session", "Group: Thursday circle"]


# -- access logs --------------------------------------------------------------
TOKEN = "Zq3sEcReT-tOkEn_0123456789abcdef"


@pytest.mark.parametrize("path", [
    f"/feeds/{TOKEN}.ics", f"/feeds//{TOKEN}.ics", f"//feeds/{TOKEN}.ics",
    f"/feeds/x/{TOKEN}.ics", f"/feeds/{TOKEN}", f"/feeds/{TOKEN}.ics/",
    f"/feeds/%2F{TOKEN}.ics", f"/%66eeds/{TOKEN}.ics", f"/FEEDS/{TOKEN}.ics",
    f"/feeds/{TOKEN[:10]}%2D{TOKEN[11:]}.ics", f"/feeds/{TOKEN}.ics?x=1",
    f"https://practice.example/feeds//{TOKEN}.ics",
])
def test_access_log_never_holds_a_feed_token(path):
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1,
                               '%s - - "%s" %s "%s"', ("127.0.0.1", f"GET {path} HTTP/1.1",
                                                       200, path), None)
    RedactFeedTokens().filter(record)
    line = record.getMessage()
    assert "[redacted]" in line
    for piece in (TOKEN, TOKEN[:10], TOKEN[11:], "sEcReT"):
        assert piece not in line, line
    assert line.startswith('127.0.0.1 - - "GET ') and line.endswith('"')


def test_redaction_keeps_other_paths_and_the_shape():
    assert redact("GET /api/rooms HTTP/1.1") == "GET /api/rooms HTTP/1.1"
    assert redact(f"GET /feeds/{TOKEN}.ics?x=1 HTTP/1.1") == \
        "GET /feeds/[redacted].ics?x=1 HTTP/1.1"


# -- Cache-Control ------------------------------------------------------------
@pytest.mark.parametrize("method, url", [
    ("get", "/api/rooms"), ("get", "/api/openapi.json"), ("get", "/api/nowhere"),
    ("post", "/api/tokens"), ("get", "/api/clients/999"), ("delete", "/api/rooms"),
])
def test_every_api_answer_is_no_store(admin_api, anon_api, method, url):
    for api in (admin_api, anon_api):
        r = getattr(api, method)(url)
        assert r.headers.get("Cache-Control") == "no-store", (url, r.status_code)


def test_feed_keeps_its_own_caching(app, client, group):
    with app.app_context():
        path = feed_link(clinician_id=group)
    r = client.get(path, buffered=True)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] != "no-store"


# -- production and the Host header -------------------------------------------
@pytest.fixture
def prod_env(monkeypatch, tmp_path):
    from practice.config import ENV_KEYS

    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    return {"INSTANCE_PATH": str(tmp_path), "TESTING": True, "SECRET_KEY": "prod-secret",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}",
            "PRACTICE_ENV": "production"}


def test_production_requires_a_base_url(prod_env):
    with pytest.raises(ConfigurationError, match="PRACTICE_BASE_URL"):
        create_app(prod_env)


@pytest.mark.parametrize("bad", ["practice.example", "ftp://practice.example",
                                 "https://", "https://practice.example/?x=1"])
def test_production_base_url_must_be_a_url(prod_env, bad):
    with pytest.raises(ConfigurationError, match="PRACTICE_BASE_URL"):
        create_app({**prod_env, "PRACTICE_BASE_URL": bad})


def test_production_feed_links_ignore_the_host_header(prod_env, db_url, make_clinician):
    app = create_app({**prod_env, "DATABASE_URL": db_url,
                      "PRACTICE_BASE_URL": "https://practice.example/"})
    from practice.auth import issue_token
    from practice.services.accounts import create_user

    with app.app_context():
        user = create_user("prod-admin@test.example", "admin", "correct horse battery")
        token, _ = issue_token(user)
        db.session.commit()
    clinician = make_clinician("Dr Prod")
    r = app.test_client().post(f"/api/clinicians/{clinician}/feed",
                               headers={"Authorization": f"Bearer {token}",
                                        "Host": "evil.example"},
                               base_url="https://evil.example")
    assert r.status_code in (200, 201), r.json
    assert r.json["url"].startswith("https://practice.example/feeds/")
    assert "evil" not in str(r.json)
