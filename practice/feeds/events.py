"""What one feed event says, by privacy level, and how it is written.

A feed leaves the practice, so the text is decided here and nowhere else:

- ``busy``: "Busy" and the room, nothing about the client;
- ``initials``: the client's initials ("ZQ"); a group course shows
  "Group session" (never client names, never its label);
- ``full``: the client's name (groups: the label, with the clients' names in
  the description), offered only behind a warning when the link is made.

A course label is free text written by staff ("IPT group Tuesdays",
"Bereavement circle"): it can say what the clients are treated for, and the
modality words that would catch it are only known while the modality's
plugin is enabled. So a label reaches a feed only at ``full``, the level
that already names the clients.

Never a diagnosis, intake data, measures or the modality's name (a
modality can reveal a condition). Plugins may change SUMMARY and DESCRIPTION
only, through ``practice_feed_event``, which gets a copy of what the core
built.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from ..models.people import initials_of as initials  # the one rule, shared with pages
from .ical import CRLF, content_line, escape_text, local_value, utc_value, zone

log = logging.getLogger(__name__)

PLUGIN_SETTABLE = ("SUMMARY", "DESCRIPTION")


@dataclass(frozen=True, slots=True)
class EventData:
    """Every value one VEVENT is written from; hashable, so it is also the
    key under which the written bytes are kept."""

    uid: str
    sequence: int
    created: datetime | str  # UTC; SQLite gives its stored text
    updated: datetime | str
    starts_at: datetime
    ends_at: datetime
    tzid: str
    cancelled: bool
    summary: str
    location: str
    description: str


@lru_cache(maxsize=8192)
@lru_cache(maxsize=256)
def _pattern(words: frozenset[str]) -> re.Pattern | None:
    words = frozenset(w for w in words if w and w.strip())
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def names_a_modality(text: str, words: frozenset[str]) -> bool:
    """True when ``text`` contains one of ``words`` (modality keys and labels)
    as a whole word, in any case."""
    pattern = _pattern(words)
    return bool(text and pattern is not None and pattern.search(text))


def core_texts(*, privacy: str, owner_kind: str, names: list[str], group: bool,
               label: str | None, clinician_name: str, cancelled: bool,
               modality_words: frozenset[str] = frozenset()) -> tuple[str, str]:
    """(SUMMARY, DESCRIPTION) as the core writes them for one session.

    A group label that names a modality ("IPT group") is not shown: the
    modality can reveal the clients' condition.
    """
    # A feed repeats the same few texts hundreds of times: work each out once.
    return _core_texts(privacy, owner_kind, tuple(names), group, label, clinician_name,
                       cancelled, modality_words)


@lru_cache(maxsize=8192)
def _core_texts(privacy: str, owner_kind: str, names: tuple[str, ...], group: bool,
                label: str | None, clinician_name: str, cancelled: bool,
                modality_words: frozenset[str]) -> tuple[str, str]:
    description = ""
    if privacy != "full" or (label and names_a_modality(label, modality_words)):
        label = None
    if privacy == "busy":
        summary = "Busy"
    elif group:
        summary = f"Group: {label}" if label else "Group session"
        if privacy == "full" and names:
            description = "Clients: " + ", ".join(sorted(names))
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
                    privacy: str, phase: str | None,
                    modality_words: frozenset[str] = frozenset()) -> EventData:
    """Let plugins set SUMMARY and DESCRIPTION; anything else they return is
    ignored, and so is a value that names a modality (logged with the
    property name only, never the text)."""
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
                if names_a_modality(value, modality_words):
                    log.warning("practice_feed_event: a plugin's %s names a modality, which "
                                "can reveal a condition; ignored", key)
                    continue
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
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        # A wall-clock time that happens twice (the fall-back hour). RFC 5545
        # says a TZID time means the first, but ical.js takes the second, so
        # say the instant in UTC, which every parser reads alike.
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
