"""What a feed may say about clients: by privacy level, for individual and
group courses, in clinician and room feeds; never contact details, birth
date, intake or the modality; plugins only through the feed hook."""
from __future__ import annotations

import re
from datetime import date

import pytest
from feeds_factory import cancel_session, feed_link, make_course, sessions_of
from icalendar import Calendar

from practice.extensions import db
from practice.hookspecs import hookimpl
from practice.models import Course, TherapySession

ZEBEDIAH = {"name": "Zebediah Quux-Testperson", "email": "zeb.quux@example.org",
            "phone": "+1 (555) 014-2398", "date_of_birth": date(1984, 7, 19)}
INTAKE = {"primary_problem_area": "grief",
          "formulation": "Complicated bereavement after losing Marguerite",
          "interpersonal_inventory": [{"person": "Marguerite", "relationship": "sister",
                                       "closeness": 5, "notes": "Sudden death in May"}],
          "prior_episodes": 2}
NEVER = ["Zebediah", "Quux", "Testperson", "zeb.quux", "example.org", "555", "014-2398",
         "0142398", "1984", "19840719", "grief", "bereavement", "Marguerite", "sister",
         "Sudden death"]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PRACTICE_TIMEZONE": "America/New_York",
            "FEED_TODAY": "2026-02-10"}


@pytest.fixture
def zeb(app, make_clinician, make_room, make_client):
    clinician = make_clinician("Dr Okafor")
    room = make_room("Room 4")
    client_id = make_client(**ZEBEDIAH)
    with app.app_context():
        course = make_course(clinician_id=clinician, room_id=room, client_ids=[client_id],
                             first=date(2026, 2, 16), weeks=4, modality="ipt",
                             modality_data=INTAKE)
    return {"clinician": clinician, "room": room, "client": client_id, "course": course}


def fetch(app, client, privacy="initials", **owner) -> bytes:
    with app.app_context():
        path = feed_link(privacy=privacy, **owner)
    resp = client.get(path, buffered=True)
    assert resp.status_code == 200
    return resp.data


def readable(body: bytes) -> str:
    """The text a reader of the feed sees: unfolded and unescaped."""
    text = body.decode("utf-8").replace("\r\n ", "")
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def summaries(body: bytes) -> list[str]:
    return [str(e["SUMMARY"]) for e in Calendar.from_ical(body).walk("VEVENT")]


def modality_free(text: str) -> bool:
    return not re.search(r"(?<!\w)(ipt|interpersonal|depression|psychotherapy)(?!\w)", text,
                         re.I)


def test_default_feed_shows_initials_and_nothing_else(app, client, admin_api, zeb):
    # The default link, made the way a user makes it.
    url = admin_api.post(f"/api/clinicians/{zeb['clinician']}/feed").json["url"]
    body = client.get("/feeds/" + url.split("/feeds/")[1], buffered=True).data
    text = readable(body)
    for secret in NEVER:
        assert secret.lower() not in text.lower(), secret
    assert modality_free(text)
    assert summaries(body) == ["Session: ZQ"] * 4
    assert "ZQ" in text


def test_busy_shows_busy(app, client, zeb):
    body = fetch(app, client, "busy", clinician_id=zeb["clinician"])
    assert summaries(body) == ["Busy"] * 4
    text = readable(body)
    assert "ZQ" not in text and "DESCRIPTION" not in text
    assert all(s.lower() not in text.lower() for s in NEVER)


def test_full_shows_the_name_but_nothing_clinical(app, client, zeb):
    body = fetch(app, client, "full", clinician_id=zeb["clinician"])
    assert summaries(body) == ["Session: Zebediah Quux-Testperson"] * 4
    text = readable(body)
    for secret in ("zeb.quux", "014-2398", "1984", "grief", "bereavement", "Marguerite"):
        assert secret not in text
    assert modality_free(text)


def test_room_feed_names_the_clinician_not_the_client(app, client, zeb):
    body = fetch(app, client, room_id=zeb["room"])
    assert summaries(body) == ["Session: ZQ (Dr Okafor)"] * 4
    assert "Zebediah" not in readable(body)


def test_group_course_shows_its_label_only_in_full(app, client, make_clinician, make_room,
                                                   make_client):
    clinician, room = make_clinician("Dr Group"), make_room("Group room", capacity=8)
    members = [make_client(n) for n in ("Xavier Yolo", "Wanda Vex", "Una Tiff")]
    with app.app_context():
        make_course(clinician_id=clinician, room_id=room, client_ids=members,
                    first=date(2026, 2, 19), weeks=2, label="Thursday evening group")
        # A label that names a modality is not shown: it can reveal a condition.
        make_course(clinician_id=clinician, room_id=room, client_ids=members,
                    first=date(2026, 2, 20), weeks=1, label="IPT-G Friday", modality="ipt-g")
    body = fetch(app, client, clinician_id=clinician)
    # Below full, a label (free text that may name a condition) is not shown.
    assert summaries(body) == ["Group session"] * 3
    text = readable(body)
    for gone in ("XY", "WV", "UT", "Xavier", "Wanda", "Una", "Thursday"):
        assert gone not in text
    assert modality_free(text)
    full_body = fetch(app, client, "full", clinician_id=clinician)
    assert summaries(full_body) == ["Group: Thursday evening group", "Group session",
                                    "Group: Thursday evening group"]
    assert modality_free(readable(full_body))
    full = Calendar.from_ical(full_body)
    event = full.walk("VEVENT")[0]
    assert str(event["DESCRIPTION"]) == "Clients: Una Tiff, Wanda Vex, Xavier Yolo"


class FeedPlugin:
    """A plugin that tries everything: mutate the copy, the ORM objects, set
    other properties, name the modality."""

    def __init__(self) -> None:
        self.seen: list[tuple[dict, str, str | None]] = []

    @hookimpl
    def practice_session_phase(self, course, number, total):
        return "opening" if number == 1 else "working"

    @hookimpl
    def practice_feed_event(self, event, session, course, privacy, phase):
        self.seen.append((dict(event), privacy, phase))
        event["SUMMARY"] = "changed the copy"
        session.status = "attended"
        course.label = "renamed by a plugin"
        if privacy != "full":
            return None
        if session.number == 4:
            return {"SUMMARY": f"{course.modality.upper()} session"}
        return {"DESCRIPTION": f"phase: {phase}", "LOCATION": "Elsewhere", "X-LEAK": "yes"}


@pytest.fixture
def plugin():
    return FeedPlugin()


@pytest.fixture
def plugin_app_config(app_config, plugin):
    return {**app_config, "PRACTICE_EXTRA_PLUGINS": {"feedtest": plugin}}


@pytest.fixture
def plugin_client(plugin_app_config, app):
    from practice import create_app

    return create_app(plugin_app_config)


def test_plugins_add_only_summary_and_description(app, plugin, plugin_client, zeb):
    with app.app_context():
        first = sessions_of(zeb["course"])[0]
        cancel_session(first.id)
        path = feed_link(privacy="full", clinician_id=zeb["clinician"])
    body = plugin_client.test_client().get(path, buffered=True).data
    events = Calendar.from_ical(body).walk("VEVENT")
    # Session 1 is cancelled (no phase), so session 2 is the first
    # delivered one: "opening".
    assert [str(e.get("DESCRIPTION", "")) for e in events] == [
        "phase: None", "phase: opening", "phase: working", ""]
    assert {str(e["LOCATION"]) for e in events} == {"Room 4"}
    assert b"X-LEAK" not in body
    # The plugin's SUMMARY naming the modality is refused; the core's stays.
    assert str(events[3]["SUMMARY"]) == "Session: Zebediah Quux-Testperson"
    assert modality_free(readable(body))
    # The hook saw a copy of the core's event; its changes stayed its own.
    copy, privacy, phase = plugin.seen[1]
    assert copy["SUMMARY"] == "Session: Zebediah Quux-Testperson" and privacy == "full"
    assert "changed the copy" not in body.decode()
    with app.app_context():
        assert db.session.get(Course, zeb["course"]).label is None
        statuses = db.session.scalars(db.select(TherapySession.status)
                                      .order_by(TherapySession.number)).all()
        assert statuses == ["cancelled_by_client", "scheduled", "scheduled", "scheduled"]


def test_plugins_get_no_phase_below_full_privacy(app, plugin, plugin_client, zeb):
    with app.app_context():
        path = feed_link(privacy="initials", clinician_id=zeb["clinician"])
    body = plugin_client.test_client().get(path, buffered=True).data
    assert summaries(body) == ["Session: ZQ"] * 4
    assert [(p, ph) for _e, p, ph in plugin.seen] == [("initials", None)] * 4


@pytest.fixture
def ipt_app(app_config, app):
    from practice import create_app

    return create_app({**app_config, "PRACTICE_PLUGINS": "ipt"})


def test_ipt_plugin_adds_its_caption_never_the_modality(app, ipt_app, zeb):
    with app.app_context():
        db.session.get(Course, zeb["course"]).planned_sessions = 16
        db.session.commit()
        full = feed_link(privacy="full", clinician_id=zeb["clinician"])
        initials_only = feed_link(privacy="initials", room_id=zeb["room"])
    body = ipt_app.test_client().get(full, buffered=True).data
    assert summaries(body)[:2] == [
        "Session: Zebediah Quux-Testperson \u2013 session 1 of 16 (initial)",
        "Session: Zebediah Quux-Testperson \u2013 session 2 of 16 (initial)"]
    text = readable(body)
    assert modality_free(text)
    assert all(secret not in text for secret in ("grief", "Marguerite", "1984"))
    # Below full privacy the plugin adds nothing.
    room = ipt_app.test_client().get(initials_only, buffered=True).data
    assert summaries(room) == ["Session: ZQ (Dr Okafor)"] * 4
