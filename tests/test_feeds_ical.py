"""The iCalendar text itself: line ends, folding at 75 octets without
splitting a character, escaping, calendar properties, VTIMEZONEs that give
the right offsets to a parser with no zone database, and the fall-back hour."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from feeds_factory import feed_link, make_course
from feeds_parsers import icaljs, js_instant, needs_node
from icalendar import Calendar

from practice.extensions import db
from practice.feeds.events import initials
from practice.feeds.ical import content_line, escape_text, fold, vtimezone
from practice.models import TherapySession

LONG_ROOM = ("Raum für Gruppentherapie – Ostflügel, 2. Stock; über der Bäckerei "
             "«Zum Goldenen Brötchen» 🌿🌿🌿 — Eingang Hofseite, Klingel ganz oben ✓")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PRACTICE_TIMEZONE": "America/New_York",
            "FEED_TODAY": "2026-10-01"}


def physical_lines(body: bytes) -> list[bytes]:
    assert body.endswith(b"\r\n")
    return body[:-2].split(b"\r\n")


def test_escape_and_fold_units():
    assert escape_text("Room 2, East; upstairs") == r"Room 2\, East\; upstairs"
    assert escape_text("a\\b\nc\r\nd\x07e") == r"a\\b\nc\nde"
    line = "SUMMARY:" + "é" * 80
    folded = fold(line)
    pieces = folded.encode().split(b"\r\n")
    assert all(len(p) <= 75 for p in pieces)
    assert all(p.startswith(b" ") for p in pieces[1:])
    assert "".join(p.decode() for p in pieces).replace(" é", "é") == line
    # Never between a backslash and what it escapes.
    tricky = "DESCRIPTION:" + "x" * 62 + r"\,after"
    first, second = fold(tricky).split("\r\n")
    assert not first.endswith("\\") and second.startswith(" \\,")
    assert content_line("X", "short") == "X:short\r\n"


def test_initials():
    assert initials("Zebediah Quux-Testperson") == "ZQ"
    assert initials("  ada   lovelace ") == "AL"
    assert initials("Émile Zola") == "ÉZ"
    assert initials("Cher") == "C"
    assert initials("Mary Ann O'Neil") == "MO"
    assert initials("...") == "?"


def test_lines_are_crlf_folded_and_whole_characters(app, client, make_clinician, make_room,
                                                    make_client):
    clinician, room, person = make_clinician(), make_room(LONG_ROOM), make_client()
    with app.app_context():
        make_course(clinician_id=clinician, room_id=room, client_ids=[person],
                    first=date(2026, 10, 5), weeks=2, label=None)
        path = feed_link(clinician_id=clinician)
    body = client.get(path, buffered=True).data
    assert b"\n" not in body.replace(b"\r\n", b"")  # no bare LF
    assert b"\r" not in body.replace(b"\r\n", b"")
    lines = physical_lines(body)
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # something was folded
    for line in lines:
        line.decode("utf-8")  # raises if a fold split a character
    cal = Calendar.from_ical(body)
    assert {str(e["LOCATION"]) for e in cal.walk("VEVENT")} == {LONG_ROOM}


@needs_node
def test_icaljs_reads_folded_utf8_back(app, client, make_clinician, make_room, make_client,
                                       tmp_path):
    clinician, room, person = make_clinician(), make_room(LONG_ROOM), make_client()
    with app.app_context():
        make_course(clinician_id=clinician, room_id=room, client_ids=[person],
                    first=date(2026, 10, 5), weeks=1, label=None)
        path = feed_link(clinician_id=clinician)
    parsed = icaljs(client.get(path, buffered=True).data, tmp_path)
    assert [e["location"] for e in parsed["events"]] == [LONG_ROOM]


def test_calendar_properties(app, client, make_clinician):
    clinician = make_clinician("Dr Okafor")
    with app.app_context():
        path = feed_link(clinician_id=clinician)
    body = client.get(path, buffered=True).data
    lines = physical_lines(body)
    assert lines[:2] == [b"BEGIN:VCALENDAR", b"VERSION:2.0"]
    assert lines[-1] == b"END:VCALENDAR"
    for expected in (b"X-WR-CALNAME:Dr Okafor (Demo Practice)",
                     b"REFRESH-INTERVAL;VALUE=DURATION:PT15M", b"X-PUBLISHED-TTL:PT15M",
                     b"CALSCALE:GREGORIAN"):
        assert expected in lines
    assert any(line.startswith(b"PRODID:") for line in lines)
    # No sessions: a valid, empty calendar without a (stray) VTIMEZONE.
    cal = Calendar.from_ical(body)
    assert cal.walk("VEVENT") == [] and cal.walk("VTIMEZONE") == []


ZONES = ["America/New_York", "Europe/London", "Australia/Sydney", "America/Sao_Paulo",
         "Asia/Kolkata", "Pacific/Chatham"]


def _probe_calendar(tzid: str, first: date, last: date) -> tuple[bytes, list[datetime]]:
    """Events every 30 minutes around each transition (and some plain days),
    skipping wall-clock times that do not exist or exist twice."""
    tz = ZoneInfo(tzid)
    days = {first + timedelta(days=d) for d in range(0, (last - first).days, 37)}
    text = vtimezone(tzid, first, last)
    for line in text.split("\r\n"):
        if line.startswith("DTSTART:") and "T" in line:
            days.add(datetime.strptime(line[8:16], "%Y%m%d").date())
    expected, events = [], []
    for day in sorted(d for d in days if first <= d < last):
        for minutes in range(0, 24 * 60, 30):
            wall = datetime.combine(day, time(minutes // 60, minutes % 60))
            there = wall.replace(tzinfo=tz)
            back = there.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None)
            other = wall.replace(tzinfo=tz, fold=1).utcoffset()
            if back != wall or other != there.utcoffset():
                continue  # in the spring gap or the autumn overlap
            n = len(expected)
            expected.append(there.astimezone(timezone.utc))
            events.append(f"BEGIN:VEVENT\r\nUID:probe-{n}\r\nDTSTAMP:20260101T000000Z\r\n"
                          f"DTSTART;TZID={tzid}:{wall:%Y%m%dT%H%M%S}\r\n"
                          f"DTEND;TZID={tzid}:{wall:%Y%m%dT%H%M%S}\r\nEND:VEVENT\r\n")
    body = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//probe//EN\r\n" + text
            + "".join(events) + "END:VCALENDAR\r\n")
    return body.encode(), expected


@pytest.mark.parametrize("tzid", ZONES)
def test_vtimezone_alone_gives_zoneinfo_offsets_in_icalendar(tzid):
    body, expected = _probe_calendar(tzid, date(2026, 1, 1), date(2028, 1, 1))
    cal = Calendar.from_ical(body)
    (component,) = cal.walk("VTIMEZONE")
    own = component.to_tz(lookup_tzid=False)
    got = [e.decoded("DTSTART").replace(tzinfo=own).astimezone(timezone.utc)
           for e in cal.walk("VEVENT")]
    assert got == expected


@needs_node
@pytest.mark.parametrize("tzid", ZONES)
def test_vtimezone_alone_gives_zoneinfo_offsets_in_icaljs(tzid, tmp_path):
    body, expected = _probe_calendar(tzid, date(2026, 1, 1), date(2028, 1, 1))
    parsed = icaljs(body, tmp_path)
    assert [js_instant(e["start"]) for e in parsed["events"]] == expected


@needs_node
def test_the_repeated_fall_back_hour(app, client, make_clinician, make_room, make_client,
                                     tmp_path):
    """01:00-02:00 happens twice on 1 November 2026 in New York. RFC 5545
    reads a TZID time there as the first, ical.js as the second: sessions in
    that hour are written in UTC, which every parser reads alike."""
    clinician, room, person = make_clinician(), make_room(), make_client()
    ny = ZoneInfo("America/New_York")
    with app.app_context():
        course = make_course(clinician_id=clinician, room_id=room, client_ids=[person],
                             first=date(2026, 11, 1), start=time(1, 0), weeks=1, duration=20)
        second = datetime(2026, 11, 1, 1, 30, tzinfo=ny, fold=1)
        make_course(clinician_id=clinician, room_id=room, client_ids=[person],
                    first=date(2026, 11, 1), start=time(1, 30), weeks=1, duration=20)
        # Move that one to the second 01:30 (06:30Z rather than 05:30Z).
        late = db.session.scalar(db.select(TherapySession)
                                 .where(TherapySession.course_id != course))
        late.starts_at = second.astimezone(timezone.utc)
        late.ends_at = late.starts_at + timedelta(minutes=20)
        db.session.commit()
        path = feed_link(clinician_id=clinician)
        expected = sorted(s.starts_at for s in db.session.scalars(db.select(TherapySession)))
    body = client.get(path, buffered=True).data
    assert b"DTSTART:20261101T063000Z" in body
    assert b"DTSTART:20261101T050000Z" in body  # the first 01:00 (EDT)
    assert b"DTEND:20261101T052000Z" in body
    py = sorted(e.decoded("DTSTART").astimezone(timezone.utc)
                for e in Calendar.from_ical(body).walk("VEVENT"))
    js = sorted(js_instant(e["start"]) for e in icaljs(body, tmp_path)["events"])
    assert py == js == expected
