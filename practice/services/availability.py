"""Load what the availability search needs, then run the pure search."""
from __future__ import annotations

import calendar
import gc
from contextlib import contextmanager
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import BigInteger, String, and_, cast, extract, func, or_, select, type_coerce

from ..errors import NotFound, RuleViolation, violation
from ..extensions import db
from ..models import Absence, Clinician, ClinicianModality, Closure, Room, TherapySession
from ..models.courses import CANCELLED
from ..scheduling.availability import (ClinicianInfo, RoomInfo, SearchParams, search,
                                      series_plan)
from ..scheduling.daymask import BusyIndex
from ..scheduling.timeutil import minutes
from .calendar import practice_zone
from .modalities import enabled_modalities

# Weeks loaded beyond the plain span of the series, for weeks skipped over
# closures and absences; a slot needing more is left out rather than guessed
# (by the plan, before the search ranks and cuts to ``limit``).
SLACK_WEEKS = 12


def find_slots(args: dict) -> list[dict]:
    zone = practice_zone()
    if args.get("clinician_id") is not None:
        c = db.session.get(Clinician, args["clinician_id"])
        if c is None:
            raise NotFound(f"Clinician {args['clinician_id']} does not exist.")
        clinicians = [c] if c.active else []
    else:
        key = args["modality"]
        if key not in enabled_modalities():
            raise RuleViolation([violation("modality.unknown", f"Modality {key!r} is not "
                                           "enabled here.", field="modality")])
        q = select(Clinician).where(Clinician.active).order_by(Clinician.id)
        if key != "general":
            q = q.join(ClinicianModality).where(ClinicianModality.modality == key)
        clinicians = db.session.scalars(q).unique().all()
    params = SearchParams(
        weeks=args["weeks"], duration=args["duration_minutes"], from_date=args["date_from"],
        weekday=args.get("weekday"),
        earliest=minutes(args["earliest"]) if args.get("earliest") else None,
        latest=minutes(args["latest"]) if args.get("latest") else None,
        min_capacity=args.get("min_capacity", 1), interval_weeks=args.get("interval_weeks", 1),
        limit=args.get("limit", 20))
    start = params.from_date
    try:
        end = params.horizon = start + timedelta(weeks=params.weeks * params.interval_weeks
                                                 + SLACK_WEEKS)
        # The bookings read start a day early (a session across midnight).
        start - timedelta(days=2), end + timedelta(days=2)
    except OverflowError:
        raise RuleViolation([violation(
            "availability.from", "The search would run past the calendar's range; "
            "give a nearer date.", field="from")]) from None
    if not clinicians:
        return []
    ids = [c.id for c in clinicians]
    absences: dict[int, list] = {}
    for cid, a, b in db.session.execute(select(Absence.clinician_id, Absence.start_date,
                                               Absence.end_date)
                                        .where(Absence.clinician_id.in_(ids),
                                               Absence.end_date >= start,
                                               Absence.start_date <= end)):
        absences.setdefault(cid, []).append((a, b))
    infos = []
    for c in clinicians:
        hours: dict[int, list] = {}
        for wh in c.working_hours:
            hours.setdefault(wh.weekday, []).append((minutes(wh.start), minutes(wh.end)))
        infos.append(ClinicianInfo(c.id, hours, absences.get(c.id, [])))
    rooms = [RoomInfo(r.id, r.site_id, r.capacity) for r in db.session.execute(
        select(Room.id, Room.site_id, Room.capacity).where(Room.active))]
    closures, site_closures = set(), {}
    for d, site_id in db.session.execute(select(Closure.date, Closure.site_id)
                                         .where(Closure.date >= start, Closure.date <= end)):
        if site_id is None:
            closures.add(d)
        else:
            site_closures.setdefault(site_id, set()).add(d)
    plan = series_plan(clinicians=infos, rooms=rooms, closures=closures,
                       site_closures=site_closures, params=params)
    busy = BusyIndex(zone)
    clinician_ids = set(ids)
    loaded: set = set()

    def load(days: set) -> None:
        # The search asks for the days of its best-ranked series first and
        # stops once it has ``limit`` slots: usually a few weekdays' worth of
        # bookings instead of every day of the window.
        new = sorted(days - loaded)
        if new:
            loaded.update(new)
            busy.add_sessions(_busy_rows(_day_ranges(new, zone)), clinician_ids)

    with cyclic_gc_paused():
        slots = search(clinicians=infos, rooms=rooms, busy=busy, closures=closures,
                       site_closures=site_closures, params=params, zone=zone, plan=plan,
                       load=load)
    return [s.as_dict() for s in slots]


def _day_ranges(days: list, zone) -> list[tuple[datetime, datetime]]:
    """UTC [start, end) of each run of consecutive local days (sorted)."""
    runs: list[list] = []
    for d in days:
        if runs and runs[-1][1] + timedelta(days=1) == d:
            runs[-1][1] = d
        else:
            runs.append([d, d])
    # Local midnight without the gap check: a zone that skips midnight gives
    # an instant an hour off, and the overlap test below still holds.
    return [(datetime.combine(a, time(0), tzinfo=zone).astimezone(timezone.utc),
             datetime.combine(b + timedelta(days=1), time(0), tzinfo=zone)
             .astimezone(timezone.utc)) for a, b in runs]


# Sessions read per query: one index range per run of days.
RANGES_PER_QUERY = 40


def _busy_rows(ranges) -> list[tuple[int, int, int, int]]:
    """(clinician id, room id, start, end) of the live sessions overlapping
    the UTC ``ranges`` (those starting up to a day before one, as a session
    across midnight may), instants as whole UTC epoch seconds (start rounded
    down, end up). Thousands of rows are read per search: making each
    instant an aware datetime, then a local one, was most of the search's
    time.

    A Core select (its rows not passed through the ORM), fetched at once.
    """
    S = TherapySession.__table__.c
    out = []
    for i in range(0, len(ranges), RANGES_PER_QUERY):
        where = (or_(*(and_(S.starts_at >= lo - timedelta(days=1), S.starts_at < hi,
                            S.ends_at > lo) for lo, hi in ranges[i:i + RANGES_PER_QUERY])),
                 S.status.not_in(CANCELLED))
        out += _rows(S, where)
    return out


def _rows(S, where) -> list[tuple[int, int, int, int]]:
    if db.engine.dialect.name == "postgresql":
        return db.session.execute(select(
            S.clinician_id, S.room_id,
            cast(func.floor(extract("epoch", S.starts_at)), BigInteger),
            cast(func.ceil(extract("epoch", S.ends_at)), BigInteger)).where(*where)).all()
    # SQLite keeps naive UTC text; sessions share a few thousand instants,
    # so each distinct text is parsed once.
    rows = db.session.execute(select(
        S.clinician_id, S.room_id, type_coerce(S.starts_at, String),
        type_coerce(S.ends_at, String)).where(*where)).all()
    starts: dict[str, int] = {}
    ends: dict[str, int] = {}
    out = []
    for cid, rid, a, b in rows:
        s = starts.get(a)
        if s is None:
            s = starts[a] = _text_epoch(a)
        e = ends.get(b)
        if e is None:
            e = ends[b] = _text_epoch(b, up=True)
        out.append((cid, rid, s, e))
    return out


def _text_epoch(text: str, up: bool = False) -> int:
    dt = datetime.fromisoformat(text)
    return calendar.timegm(dt.timetuple()) + (1 if up and dt.microsecond else 0)


@contextmanager
def cyclic_gc_paused():
    """No cyclic garbage collection while thousands of rows and masks are
    made: every few thousand allocations it walked the whole heap (a third
    of a search's time), yet none of these objects form cycles, so reference
    counting frees them all the same; collection resumes right after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

