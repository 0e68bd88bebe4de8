"""GET/HEAD /feeds/<token>.ics: content type, 404s, validators (ETag,
Last-Modified, 304), byte-identical unchanged feeds, change propagation
across app instances (workers), and the record of every fetch."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from feeds_factory import (backdate, cancel_session, feed_link, make_course, move_session,
                           sessions_of)
from icalendar import Calendar

from practice import create_app
from practice.extensions import db
from practice.models import AuditEntry, FeedFetch, FeedToken, Room, TherapySession

TODAY = "2026-02-10"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PRACTICE_TIMEZONE": "America/New_York", "FEED_TODAY": TODAY}


@pytest.fixture
def world(app, make_clinician, make_room, make_client):
    clinician = make_clinician("Dr Okafor")
    room = make_room("Room 2, East; upstairs")
    other_room = make_room("Room 3")
    client_id = make_client("Ada Lovelace")
    with app.app_context():
        course = make_course(clinician_id=clinician, room_id=room, client_ids=[client_id],
                             first=date(2026, 2, 16), weeks=4)
        backdate()
        path = feed_link(clinician_id=clinician)
    return {"clinician": clinician, "room": room, "other_room": other_room,
            "client": client_id, "course": course, "path": path}


def get(client, path, **headers):
    # buffered: consume and close the response as a real server does, which
    # is when the fetch is recorded.
    return client.get(path, headers=headers, buffered=True)


def vevents(body: bytes) -> dict[str, bytes]:
    """UID -> the VEVENT's exact bytes."""
    blocks = re.findall(rb"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", body, re.S)
    return {re.search(rb"UID:(\S+)\r\n", b).group(1).decode(): b for b in blocks}


def prop(block: bytes, name: str) -> str:
    return re.search(rb"\r\n" + name.encode() + rb"[;:]([^\r]*)\r\n", block).group(1).decode()


def test_answers_calendar_without_accept_header(client, world):
    resp = get(client, world["path"])
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert resp.data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert resp.headers["Cache-Control"] == "private, no-cache"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert re.fullmatch(r'"[0-9a-f]{40}"', resp.headers["ETag"])  # strong, no W/
    assert resp.headers["Last-Modified"].endswith(" GMT")
    assert len(Calendar.from_ical(resp.data).walk("VEVENT")) == 4
    # Whatever the client asks for, the answer is the calendar.
    other = get(client, world["path"], Accept="application/json")
    assert other.status_code == 200 and other.data == resp.data


def test_head_gives_headers_only(client, world):
    full = get(client, world["path"])
    head = client.head(world["path"], buffered=True)
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["ETag"] == full.headers["ETag"]
    assert head.headers["Content-Length"] == str(len(full.data))
    assert head.headers["Content-Type"] == "text/calendar; charset=utf-8"


@pytest.mark.parametrize("path", [
    "/feeds/not-a-token.ics",
    "/feeds/" + "A" * 43 + ".ics",
    "/feeds/" + "x" * 5000 + ".ics",
])
def test_unknown_token_is_404(client, world, path):
    resp = get(client, path)
    assert resp.status_code == 404
    assert b"VCALENDAR" not in resp.data


def test_revoked_token_is_404(app, client, world):
    assert get(client, world["path"]).status_code == 200
    with app.app_context():
        db.session.execute(db.update(FeedToken).values(revoked_at=datetime.now(timezone.utc)))
        db.session.commit()
    assert get(client, world["path"]).status_code == 404


def test_if_none_match_gives_304_without_body(client, world):
    first = get(client, world["path"])
    etag = first.headers["ETag"]
    for header in (etag, f'"nope", {etag}', f"W/{etag}", "*"):
        again = get(client, world["path"], **{"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.data == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == "private, no-cache"
    changed = get(client, world["path"], **{"If-None-Match": '"something-else"'})
    assert changed.status_code == 200 and changed.data == first.data


def test_if_modified_since(client, world):
    first = get(client, world["path"])
    last = first.headers["Last-Modified"]
    assert get(client, world["path"], **{"If-Modified-Since": last}).status_code == 304
    earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert get(client, world["path"], **{"If-Modified-Since": earlier}).status_code == 200
    # An unparseable date counts as absent.
    for junk in ("yesterday", "Mon, 99 Foo 2026 99:99:99 GMT", ""):
        resp = get(client, world["path"], **{"If-Modified-Since": junk})
        assert resp.status_code == 200 and resp.data == first.data, junk
    # If-None-Match decides alone when both are sent (RFC 9110 13.2.2).
    resp = get(client, world["path"], **{"If-None-Match": '"other"', "If-Modified-Since": last})
    assert resp.status_code == 200


def test_unchanged_feed_is_byte_identical_across_workers(app, app_config, client, world):
    first = get(client, world["path"])
    second = get(client, world["path"])
    assert second.data == first.data
    # Another worker: a fresh app with empty caches, same database.
    other = create_app(app_config)
    third = other.test_client().get(world["path"], buffered=True)
    assert third.data == first.data
    assert third.headers["ETag"] == first.headers["ETag"]
    assert third.headers["Last-Modified"] == first.headers["Last-Modified"]


def test_moving_one_session_changes_only_its_event(app, app_config, client, world):
    before = get(client, world["path"])
    old = vevents(before.data)
    with app.app_context():
        moved = sessions_of(world["course"])[1]
        uid = moved.uid
        # Worker B makes the change; worker A (``client``) must see it.
        move_session(moved.id, moved.starts_at + timedelta(days=1, hours=1))
    after = get(client, world["path"], **{"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.headers["Last-Modified"] != before.headers["Last-Modified"]
    new = vevents(after.data)
    assert set(new) == set(old)  # same UIDs
    assert int(prop(new[uid], "SEQUENCE")) > int(prop(old[uid], "SEQUENCE"))
    assert prop(new[uid], "LAST-MODIFIED") != prop(old[uid], "LAST-MODIFIED")
    assert prop(new[uid], "DTSTART") == "TZID=America/New_York:20260224T180000"
    for other_uid in set(old) - {uid}:
        assert new[other_uid] == old[other_uid]


def test_cancelling_shows_cancelled_with_higher_sequence(app, client, world):
    before = vevents(get(client, world["path"]).data)
    with app.app_context():
        session = sessions_of(world["course"])[2]
        uid = session.uid
        cancel_session(session.id, by="practice")
    after = vevents(get(client, world["path"]).data)
    assert prop(after[uid], "STATUS") == "CANCELLED"
    assert int(prop(after[uid], "SEQUENCE")) > int(prop(before[uid], "SEQUENCE"))
    assert prop(before[uid], "STATUS") == "CONFIRMED"


def test_room_and_client_changes_reach_the_feed(app, client, world, admin_api):
    first = get(client, world["path"])
    with app.app_context():
        session = sessions_of(world["course"])[0]
        uid = session.uid
        move_session(session.id, session.starts_at, room_id=world["other_room"])
    moved = get(client, world["path"])
    assert prop(vevents(moved.data)[uid], "LOCATION") == "Room 3"
    # Renaming a room or a client changes no session, yet the feed follows.
    assert admin_api.patch(f"/api/rooms/{world['other_room']}",
                           json={"name": "Room 3a"}).status_code == 200
    renamed = get(client, world["path"])
    assert prop(vevents(renamed.data)[uid], "LOCATION") == "Room 3a"
    assert admin_api.patch(f"/api/clients/{world['client']}",
                           json={"name": "Bea Lovelace"}).status_code == 200
    client_renamed = get(client, world["path"])
    assert b"SUMMARY:Session: BL\r\n" in client_renamed.data
    etags = {r.headers["ETag"] for r in (first, moved, renamed, client_renamed)}
    assert len(etags) == 4


def test_sessions_leaving_the_window_change_the_etag(app_config, world):
    # The window: local midnight 30 days back to the end of the day 12
    # months ahead. On 2026-03-19 the first session (16 Feb) has just left.
    inside = create_app({**app_config, "FEED_TODAY": "2026-03-18"}).test_client()
    later = create_app({**app_config, "FEED_TODAY": "2026-03-19"}).test_client()
    a = inside.get(world["path"], buffered=True)
    b = later.get(world["path"], buffered=True)
    assert len(vevents(a.data)) == 4 and len(vevents(b.data)) == 3
    assert a.headers["ETag"] != b.headers["ETag"]
    # A client still holding the old ETag gets the new feed, not a 304.
    c = later.get(world["path"], headers={"If-None-Match": a.headers["ETag"]}, buffered=True)
    assert c.status_code == 200


def test_window_bounds(app, app_config, client, make_clinician, make_room, make_client):
    """Thirty days back from local midnight; twelve months ahead, whole day."""
    clinician, room, person = make_clinician(), make_room(), make_client()
    edges = [date(2026, 1, 10), date(2026, 1, 11), date(2027, 2, 10), date(2027, 2, 11)]
    with app.app_context():
        for day in edges:
            # 00:30 local, so each session sits right at a day boundary.
            make_course(clinician_id=clinician, room_id=room, client_ids=[person],
                        first=day, start=time(0, 30), weeks=1)
        path = feed_link(clinician_id=clinician)
        ny = ZoneInfo("America/New_York")
        uids = {s.starts_at.astimezone(ny).date(): s.uid
                for s in db.session.scalars(db.select(TherapySession))}
    got = set(vevents(get(client, path).data))
    assert {day for day, uid in uids.items() if uid in got} == {date(2026, 1, 11),
                                                               date(2027, 2, 10)}
    assert len(got) == 2


def test_every_fetch_is_recorded_without_the_token(app, client, world):
    token = world["path"].removeprefix("/feeds/").removesuffix(".ics")
    ok = client.get(world["path"], headers={"User-Agent": "Google-Calendar-Importer"},
                    buffered=True)
    client.get(world["path"], headers={"User-Agent": "iOS/17 dataaccessd",
                                       "If-None-Match": ok.headers["ETag"]}, buffered=True)
    client.head(world["path"], buffered=True)
    client.get("/feeds/unknown-token.ics", buffered=True)
    with app.app_context():
        link = db.session.scalar(db.select(FeedToken))
        rows = db.session.scalars(db.select(FeedFetch).order_by(FeedFetch.id)).all()
        got = [(r.feed_token_id, r.status, r.user_agent) for r in rows]
        assert got[:2] == [(link.id, 200, "Google-Calendar-Importer"),
                           (link.id, 304, "iOS/17 dataaccessd")]
        assert got[2][:2] == (link.id, 200)
        assert got[3][:2] == (None, 404)
        # Only the hash is kept anywhere: not in fetches, links or the audit log.
        dump = repr([(r.__dict__) for r in rows]) + repr(
            [a.details for a in db.session.scalars(db.select(AuditEntry))])
        dump += repr([t.token_hash for t in db.session.scalars(db.select(FeedToken))])
        assert token not in dump
        assert len(token) >= 43  # 256 random bits, URL-safe base64


def test_room_feed_lists_the_rooms_sessions(app, client, world):
    with app.app_context():
        path = feed_link(room_id=world["room"])
        name = db.session.get(Room, world["room"]).name
    cal = Calendar.from_ical(get(client, path).data)
    # X- properties are TEXT (RFC 5545 3.8.8.2), escaped like any other.
    calname = re.sub(r"\\([\\;,])", r"\1", cal["X-WR-CALNAME"].to_ical().decode())
    assert calname == f"{name} (Demo Practice)"
    summaries = {str(e["SUMMARY"]) for e in cal.walk("VEVENT")}
    assert summaries == {"Session: AL (Dr Okafor)"}



def _group_label(app, world):
    """A group course (two clients) shows its label: renaming it shows."""
    from practice.models import Course

    db.session.get(Course, world["course"]).label = "Renamed group"


def _add_client(app, world):
    from practice.models import Client, CourseClient

    other = Client(name="Dan Third")
    db.session.add(other)
    db.session.flush()
    db.session.add(CourseClient(course_id=world["course"], client_id=other.id))


def _rename_clinician(app, world):
    from practice.models import Clinician

    db.session.get(Clinician, world["clinician"]).name = "Dr Okafor-Smith"


def _move_out_of_window(app, world):
    session = sessions_of(world["course"])[-1]
    session.starts_at += timedelta(days=800)
    session.ends_at += timedelta(days=800)
    session.sequence += 1
    session.updated_at = datetime.now(timezone.utc)


@pytest.mark.parametrize("change", [_group_label, _add_client, _rename_clinician,
                                    _move_out_of_window])
def test_every_change_that_shows_changes_the_etag(app, client, world, change):
    """Clinician and room feeds both follow each change."""
    from practice.models import Client, Course, CourseClient

    with app.app_context():
        # Make it a group course first, so its label and clients show.
        second = Client(name="Carl Second")
        db.session.add(second)
        db.session.flush()
        db.session.add(CourseClient(course_id=world["course"], client_id=second.id))
        db.session.get(Course, world["course"]).label = "Tuesday group"
        db.session.commit()
        # Labels and members show only at privacy full.
        clinician_path = feed_link(clinician_id=world["clinician"], privacy="full")
        room_path = feed_link(room_id=world["room"], privacy="full")
    paths = (clinician_path, room_path)
    before = {p: get(client, p) for p in paths}
    assert b"SUMMARY:Group: Tuesday group" in before[clinician_path].data
    with app.app_context():
        change(app, world)
        db.session.commit()
    for path, old in before.items():
        new = get(client, path, **{"If-None-Match": old.headers["ETag"]})
        assert new.status_code == 200, (change.__name__, path)
        assert new.data != old.data


def test_full_privacy_follows_group_membership(app, client, world):
    from practice.models import Client, CourseClient

    with app.app_context():
        path = feed_link(clinician_id=world["clinician"], privacy="full")
    before = get(client, path)
    with app.app_context():
        second = Client(name="Carl Second")
        db.session.add(second)
        db.session.flush()
        db.session.add(CourseClient(course_id=world["course"], client_id=second.id))
        db.session.commit()
    after = get(client, path, **{"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert b"Clients: Ada Lovelace\\, Carl Second" in after.data


def test_a_feed_answers_while_a_writer_holds_the_database(app, client, world):
    """Feeds only read: on SQLite they do not queue for the write lock a
    booking holds (WAL lets them read beside it), on PostgreSQL MVCC does."""
    import time as clock

    with app.app_context():
        conn = db.engine.connect()
        trans = conn.begin()  # BEGIN IMMEDIATE on SQLite: the write lock
        conn.execute(db.text("UPDATE rooms SET capacity = capacity WHERE id = :id"),
                     {"id": world["room"]})
        try:
            started = clock.monotonic()
            resp = client.get(world["path"])  # not closed yet: the fetch record waits
            assert resp.status_code == 200
            assert clock.monotonic() - started < 5  # the busy timeout is 30 s
        finally:
            trans.rollback()
            conn.close()
        resp.close()  # now the fetch is recorded
        assert db.session.scalar(db.select(db.func.count(FeedFetch.id))) == 1
