"""Load what the availability search needs, then run the pure search."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import BigInteger, Float, Integer, case, cast, extract, func, select

from ..errors import NotFound, RuleViolation, violation
from ..extensions import db
from ..models import Absence, Clinician, ClinicianModality, Closure, Room, TherapySession
from ..models.courses import CANCELLED
from ..scheduling.availability import (ClinicianInfo, RoomInfo, SearchParams, search,
                                      series_plan)
from ..scheduling.daymask import BusyIndex
from ..scheduling.timeutil import local_instant, minutes
from .calendar import practice_zone
from .modalities import enabled_modalities

# Weeks loaded beyond the plain span of the series, for weeks skipped over
# closures and absences; a slot needing more is dropped rather than guessed.
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
    if not clinicians:
        return []
    start = params.from_date
    end = start + timedelta(weeks=params.weeks * params.interval_weeks + SLACK_WEEKS)
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
    # Read bookings only for the days some series would occupy: up to the
    # last of them (the whole window when a series runs past it, as before).
    last = max((got[0][-1] for got in plan.values() if got), default=start)
    stop = min(end, last + timedelta(days=1))
    busy = BusyIndex(zone)
    lo = local_instant(start, minutes_to_time(0), zone)
    hi = local_instant(stop, minutes_to_time(0), zone)
    # Table columns: a Core select, its rows not passed through the ORM.
    S = TherapySession.__table__.c
    with cyclic_gc_paused():
        rows = db.session.execute(
            select(S.clinician_id, S.room_id, _epoch_seconds(S.starts_at),
                   _epoch_seconds(S.ends_at, up=True))
            .where(S.starts_at >= lo - timedelta(days=1), S.starts_at < hi,
                   S.status.not_in(CANCELLED))).all()  # one fetch, not one a row
        busy.add_sessions(rows, set(ids))
        del rows
        slots = search(clinicians=infos, rooms=rooms, busy=busy, closures=closures,
                       site_closures=site_closures, params=params, zone=zone, plan=plan)
    return [s.as_dict() for s in slots if s.dates[-1] < end]


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


def _epoch_seconds(col, up: bool = False):
    """A UTC instant column as whole seconds since 1970, rounded down (or up),
    computed by the database: thousands of rows are read per search, and
    making each an aware datetime, then a local one, was most of its time."""
    if db.engine.dialect.name == "postgresql":
        return cast((func.ceil if up else func.floor)(extract("epoch", col)), BigInteger)
    # SQLite keeps naive UTC text, "YYYY-MM-DD HH:MM:SS.ffffff".
    seconds = cast(func.strftime("%s", func.substr(col, 1, 19)), Integer)
    if not up:
        return seconds
    return seconds + case((cast(func.substr(col, 20), Float) > 0, 1), else_=0)


def minutes_to_time(m: int):
    from ..scheduling.timeutil import from_minutes

    return from_minutes(m)
