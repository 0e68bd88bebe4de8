"""Build a feed body, keeping what can be kept.

Two caches per app (``FeedState`` in ``app.extensions["practice_feeds"]``):

- whole bodies, keyed on the feed's owner, privacy, window, plugins and the
  database fingerprint (``query.fingerprint``), read on every request: an
  unchanged feed costs one token lookup and one aggregate query;
- single events' bytes, keyed on every value the event is written from, so
  after a change only the changed events are written again.

Neither can serve stale data: a key holds everything its value depends on.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..db import utcnow
from ..extensions import db
from ..models import Course, FeedToken, TherapySession
from ..models.courses import CANCELLED
from ..plugin_manager import hooks, plugin_state
from ..services.feeds import LiveFeed
from . import query
from .cache import ByteBudgetLRU
from .events import EventData, apply_feed_hook, core_texts, render_event
from .ical import CRLF, content_line, escape_text, vtimezone, zone

PRODID = "-//Practice//Calendar feeds//EN"


@dataclass(frozen=True)
class BuiltFeed:
    body: bytes
    etag: str  # strong: quoted hash of the body
    last_modified: datetime


@dataclass
class FeedState:
    """Per-app feed caches (sizes from FEED_CACHE_BYTES / FEED_EVENT_CACHE_BYTES)."""

    feeds: ByteBudgetLRU[BuiltFeed]
    events: ByteBudgetLRU[bytes]
    stats: dict[str, int] = field(default_factory=lambda: {"built": 0, "reused": 0})


def make_state(app: Flask) -> FeedState:
    return FeedState(feeds=ByteBudgetLRU(int(app.config.get("FEED_CACHE_BYTES", 64 << 20))),
                     events=ByteBudgetLRU(int(app.config.get("FEED_EVENT_CACHE_BYTES", 64 << 20))))


def feed_state(app: Flask) -> FeedState:
    return app.extensions["practice_feeds"]


def practice_today(app: Flask) -> date:
    """Today in the practice's zone (FEED_TODAY pins it, for tests and demos)."""
    pinned = app.config.get("FEED_TODAY")
    if pinned:
        return pinned if isinstance(pinned, date) else date.fromisoformat(str(pinned))
    return utcnow().astimezone(zone(app.config["PRACTICE_TIMEZONE"])).date()


def _has_impls(hook_caller) -> bool:
    return bool(hook_caller.get_hookimpls())


def build_feed(app: Flask, token: LiveFeed | FeedToken) -> BuiltFeed:
    """The feed of ``token``'s clinician or room, from cache when unchanged."""
    owner = (query.Owner("clinician", token.clinician_id) if token.clinician_id is not None
             else query.Owner("room", token.room_id))
    privacy = token.privacy
    practice_tz = app.config["PRACTICE_TIMEZONE"]
    window = query.feed_window(practice_today(app), zone(practice_tz))
    hook = hooks(app)
    feed_hook = _has_impls(hook.practice_feed_event)
    phase_hook = _has_impls(hook.practice_session_phase)
    plugins = tuple(sorted(plugin_state(app).enabled))
    # "session k of N" depends on the course's other sessions, in or out of
    # the window; only plugins use it, and only with full privacy.
    positions = privacy == "full" and (feed_hook or phase_hook)
    names = privacy != "busy"
    state = feed_state(app)

    # On PostgreSQL psycopg prepares this statement once it has run a few
    # times and the server may then use a generic plan, which knows neither
    # the owner nor the window: with the covering indexes (migration 0004) it
    # is the same index-only scan as a custom plan, without planning each time.
    fp = query.fingerprint(db.session, owner, window, names=names, positions=positions)
    key = (owner, privacy, window.start, window.end, practice_tz, plugins, fp)
    cached = state.feeds.get(key)
    if cached is not None:
        state.stats["reused"] += 1
        return cached

    body = _render(app, owner, privacy, window, practice_tz, names=names,
                   positions=positions, feed_hook=feed_hook, phase_hook=phase_hook,
                   plugins=plugins, state=state)
    moments = [v for v in fp if isinstance(v, datetime)] + [window.start]
    built = BuiltFeed(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:40] + '"',
                      last_modified=max(moments).replace(microsecond=0))
    state.feeds.put(key, built, len(body) + 200)
    state.stats["built"] += 1
    return built


def _render(app: Flask, owner: query.Owner, privacy: str, window: query.Window,
            practice_tz: str, *, names: bool, positions: bool, feed_hook: bool,
            phase_hook: bool, plugins: tuple[str, ...], state: FeedState) -> bytes:
    s = db.session
    sessions = query.feed_sessions(s, owner, window, names=names)
    places = query.live_positions(s, owner, window) if positions else {}
    head = _calendar_head(app, owner, practice_tz)
    base_words = _modality_words(app)
    room_feed = owner.kind == "room"

    pending: list[tuple[int, Any, EventData, tuple, frozenset[str]]] = []
    chunks: list[bytes | None] = []
    zones: set[str] = set()
    events_cache = state.events
    for item in sessions:
        row = item.row
        cancelled = row.status in CANCELLED
        words = base_words if row.modality == "general" else base_words | {row.modality}
        summary, description = core_texts(
            privacy=privacy, owner_kind=owner.kind, names=item.names, group=item.group,
            label=row.label, clinician_name=row.clinician_name if room_feed else "",
            cancelled=cancelled, modality_words=words)
        event = EventData(uid=row.uid, sequence=row.sequence, created=row.created_at,
                          updated=row.updated_at, starts_at=row.starts_at,
                          ends_at=row.ends_at, tzid=row.timezone or practice_tz,
                          cancelled=cancelled, summary=summary, location=row.room_name or "",
                          description=description)
        zones.add(event.tzid)
        # What a plugin may base its answer on, besides the event itself.
        plugin_ctx = ((row.course_id, row.course_updated_at, places.get(row.id),
                       row.planned_sessions, plugins) if feed_hook else None)
        cache_key = (event, plugin_ctx)
        data = events_cache.get(cache_key)
        if data is None:
            pending.append((len(chunks), row, event, cache_key, words))
        chunks.append(data)

    if pending and feed_hook:
        # Plugins get ORM objects; without autoflush, and with the session
        # rolled back straight after (nothing below reads the database),
        # whatever they change is never written.
        with s.no_autoflush:
            _apply_plugins(app, pending, privacy, places, phase_hook)
        s.rollback()
    for index, _row, event, cache_key, _words in pending:
        data = render_event(event)
        state.events.put(cache_key, data, len(data) + 300)
        chunks[index] = data

    timezones = "".join(vtimezone(tzid, date(window.first_day.year, 1, 1),
                                  date(window.last_day.year + 1, 1, 1))
                        for tzid in sorted(zones))
    return b"".join([head.encode("utf-8"), timezones.encode("utf-8"), *chunks,
                     b"END:VCALENDAR" + CRLF.encode()])


def _apply_plugins(app: Flask, pending: list, privacy: str, places: dict[int, int],
                   phase_hook: bool) -> None:
    """Run ``practice_feed_event`` (and the phase hook, for ``full``) for the
    events not already kept. The hooks get ORM objects; nothing here ever
    commits, so a plugin that changed one would change nothing."""
    hook = hooks(app)
    ids = [row.id for _i, row, _e, _k, _w in pending]
    sessions = {
        obj.id: obj for obj in db.session.scalars(
            select(TherapySession).options(joinedload(TherapySession.course))
            .where(TherapySession.id.in_(ids)))}
    phases: dict[tuple[int, int], str | None] = {}
    for n, (index, row, event, cache_key, words) in enumerate(pending):
        session = sessions[row.id]
        course: Course = session.course
        phase = None
        k = places.get(row.id)
        if privacy == "full" and phase_hook and k is not None:
            if (course.id, k) not in phases:
                phases[(course.id, k)] = hook.practice_session_phase(
                    course=course, number=k, total=course.planned_sessions)
            phase = phases[(course.id, k)]
        event = apply_feed_hook(hook.practice_feed_event, event, session=session,
                                course=course, privacy=privacy, phase=phase,
                                modality_words=words)
        pending[n] = (index, row, event, cache_key, words)


def _modality_words(app: Flask) -> frozenset[str]:
    """Keys and labels of the plugins' modalities: never shown in a feed."""
    from ..services.modalities import enabled_modalities

    return frozenset(word for m in enabled_modalities(app).values() if m.plugin != "core"
                     for word in (m.key, m.label))


def _calendar_head(app: Flask, owner: query.Owner, practice_tz: str) -> str:
    name = query.owner_name(db.session, owner) or ""
    practice = app.config.get("PRACTICE_NAME") or "Practice"
    refresh = f"PT{int(app.config.get('FEED_REFRESH_MINUTES', 15))}M"
    return "".join([
        "BEGIN:VCALENDAR", CRLF,
        "VERSION:2.0", CRLF,
        content_line("PRODID", PRODID),
        "CALSCALE:GREGORIAN", CRLF,
        "METHOD:PUBLISH", CRLF,
        content_line("X-WR-CALNAME", escape_text(f"{name} ({practice})")),
        content_line("X-WR-TIMEZONE", practice_tz),
        # How often to check again: RFC 7986, and the older Microsoft name.
        f"REFRESH-INTERVAL;VALUE=DURATION:{refresh}", CRLF,
        f"X-PUBLISHED-TTL:{refresh}", CRLF,
    ])
