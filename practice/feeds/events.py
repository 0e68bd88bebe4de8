"""What one feed event says, by privacy level, and how it is written.

A feed leaves the practice, so the text is decided here and nowhere else:

- ``busy``: "Busy" and the room, nothing about the client;
- ``initials``: the client's initials ("ZQ"); a group course shows its
  label (never client names);
- ``full``: the client's name (groups: the label, with the clients' names in
  the description), offered only behind a warning when the link is made.

Never a diagnosis, intake data, measures or the modality's name (a
modality can reveal a condition). Plugins may change SUMMARY and DESCRIPTION
only, through ``practice_feed_event``, which gets a copy of what the core
built.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .ical import CRLF, content_line, escape_text, local_value, utc_value, zone

log = logging.getLogger(__name__)

PLUGIN_SETTABLE = ("SUMMARY", "DESCRIPTION")


@dataclass(frozen=True, slots=True)
class EventData:
    """Every value one VEVENT is written from; hashable, so it is also the
    key under which the written bytes are kept."""

    uid: str
    sequence: int
    created: datetime
    updated: datetime
    starts_at: datetime
    ends_at: datetime
    tzid: str
    cancelled: bool
    summary: str
    location: str
    description: str


def initials(name: str) -> str:
    """First letters of the first and the last name: "Zebediah Quux-Testperson"
    gives "ZQ" (a double-barrelled surname is one name)."""
    words = [w for w in name.split() if any(ch.isalpha() for ch in w)]
    if not words:
        return "?"
    picked = words[:1] + words[-1:] if len(words) > 1 else words
    return "".join(next(ch for ch in w if ch.isalpha()).upper() for w in picked)


def core_texts(*, privacy: str, owner_kind: str, names: list[str], group: bool,
               label: str | None, clinician_name: str, cancelled: bool) -> tuple[str, str]:
    """(SUMMARY, DESCRIPTION) as the core writes them for one session."""
    description = ""
    if privacy == "busy":
        summary = "Busy"
    elif group:
        summary = f"Group: {label}" if label else "Group session"
        if privacy == "full" and names:
            description = "Clients: " + ", ".join(names)
    elif not names:
        summary = "Session"
    elif privacy == "full":
        summary = "Session: " + ", ".join(names)
    else:
        summary = "Session: " + ", ".join(initials(n) for n in names)
    if owner_kind == "room" and privacy != "busy":
        summary += f" ({clinician_name})"  # staff names are not client data
    if cancelled:
        summary = "Cancelled: " + summary
    return summary, description


def apply_feed_hook(hook: Any, event: EventData, *, session: Any, course: Any,
                    privacy: str, phase: str | None) -> EventData:
    """Let plugins set SUMMARY and DESCRIPTION; anything else they return is
    ignored (and logged with the property name only)."""
    copy = {"SUMMARY": event.summary, "DESCRIPTION": event.description,
            "LOCATION": event.location, "STATUS": "CANCELLED" if event.cancelled else "CONFIRMED"}
    results = hook(event=copy, session=session, course=course, privacy=privacy, phase=phase)
    changes: dict[str, str] = {}
    # pluggy calls the last registered plugin first; apply in registration order.
    for result in reversed(results or []):
        if not isinstance(result, dict):
            continue
        for key, value in result.items():
            if key in PLUGIN_SETTABLE and isinstance(value, str):
                changes[key] = value
            else:
                log.warning("practice_feed_event returned %r, which a plugin may not set; "
                            "ignored", str(key)[:40])
    if not changes:
        return event
    return EventData(
        uid=event.uid, sequence=event.sequence, created=event.created, updated=event.updated,
        starts_at=event.starts_at, ends_at=event.ends_at, tzid=event.tzid,
        cancelled=event.cancelled, location=event.location,
        summary=changes.get("SUMMARY", event.summary),
        description=changes.get("DESCRIPTION", event.description))


def _when(name: str, moment: datetime, tzid: str) -> str:
    local = moment.astimezone(zone(tzid))
    if local.fold:
        # The second of two equal wall-clock times after a fall-back: with a
        # TZID, RFC 5545 means the first one, so say the instant in UTC.
        return f"{name}:{utc_value(moment)}{CRLF}"
    return f"{name};TZID={tzid}:{local_value(moment, zone(tzid))}{CRLF}"


def render_event(e: EventData) -> bytes:
    """One VEVENT, CRLF line ends, long lines folded."""
    stamp = utc_value(e.updated)
    parts = [
        "BEGIN:VEVENT", CRLF,
        content_line("UID", escape_text(e.uid)),
        f"SEQUENCE:{e.sequence}{CRLF}",
        # An unchanged session gives the same bytes on every fetch: DTSTAMP
        # is the session's last change, not the time of the request.
        f"DTSTAMP:{stamp}{CRLF}",
        f"CREATED:{utc_value(e.created)}{CRLF}",
        f"LAST-MODIFIED:{stamp}{CRLF}",
        _when("DTSTART", e.starts_at, e.tzid),
        _when("DTEND", e.ends_at, e.tzid),
        content_line("SUMMARY", escape_text(e.summary)),
    ]
    if e.location:
        parts.append(content_line("LOCATION", escape_text(e.location)))
    if e.description:
        parts.append(content_line("DESCRIPTION", escape_text(e.description)))
    parts += [
        f"STATUS:{'CANCELLED' if e.cancelled else 'CONFIRMED'}{CRLF}",
        f"TRANSP:{'TRANSPARENT' if e.cancelled else 'OPAQUE'}{CRLF}",
        # Shared calendars show a private event as "busy" to others.
        f"CLASS:PRIVATE{CRLF}",
        "END:VEVENT", CRLF,
    ]
    return "".join(parts).encode("utf-8")
