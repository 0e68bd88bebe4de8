"""Load what the availability search needs, then run the pure search."""
from __future__ import annotations

import calendar
import gc
from contextlib import contextmanager
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import (BigInteger, String, and_, bindparam, cast, extract, func, or_, select,
                        type_coerce)

from ..errors import NotFound, RuleViolation, violation
from ..extensions import db
from ..models import (Absence, Clinician, ClinicianModality, Closure, Course, Room,
                      TherapySession)
from ..models.courses import CANCELLED
from ..scheduling import bounds
from ..scheduling.availability import (ClinicianInfo, RoomInfo, SearchParams, search,
                                      series_plan)
from ..scheduling.daymask import DAY_MINUTES, FULL_DAY, BusyIndex, bit_runs
from ..scheduling.timeutil import minutes
from .calendar import practice_zone
from .modalities import enabled_modalities

# Weeks loaded beyond the plain span of the series, for weeks skipped over
# closures and absences; a slot needing more is left out rather than guessed
# (by the plan, before the search ranks and cuts to ``limit``).
SLACK_WEEKS = 12


def find_slots(args: dict, user=None) -> list[dict]:
    """The ranked slots for the API's validated query (``AvailabilityArgs``).

    A clinician (``user``) searches only their own time: another
    clinician's id answers 404, as if it did not exist, and a modality
    search covers only themselves (SPEC section 6).
    """
    zone = practice_zone()
    own = (user.clinician_id or 0) if user is not None and user.role == "clinician" else None
    if args.get("clinician_id") is not None:
        c = db.session.get(Clinician, args["clinician_id"])
        if c is None or (own is not None and c.id != own):
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
        if own is not None:
            q = q.where(Clinician.id == own)
        clinicians = db.session.scalars(q).unique().all()
    params = SearchParams(
        weeks=args["weeks"], duration=args["duration_minutes"], from_date=args["date_from"],
        weekday=args.get("weekday"),
        earliest=minutes(args["earliest"]) if args.get("earliest") else None,
        latest=minutes(args["latest"]) if args.get("latest") else None,
        min_capacity=args.get("min_capacity", 1), interval_weeks=args.get("interval_weeks", 1),
        limit=args.get("limit", 20))
    start = params.from_date
    span = timedelta(weeks=params.weeks * params.interval_weeks + SLACK_WEEKS)
    if not bounds.in_range(start):
        raise RuleViolation([violation(bounds.RULE, f"from must be a date from "
                                       f"{bounds.FIRST_DAY} to {bounds.LAST_DAY}.",
                                       field="from")])
    # No series found may run past the scheduling range: the plan stops at
    # its horizon, and a slot that would reach it is left out.
    end = params.horizon = min(start + span, bounds.LAST_DAY + timedelta(days=1))
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
    # The longest booking decides how far before a day a session touching
    # it may start (a booking's length is its course's; moves keep it).
    longest = db.session.scalar(select(func.max(Course.duration_minutes))) or 0
    # No series reaches past its last date: the clinicians' window ends there.
    last = max((got[0][-1] for got in plan.values() if got), default=start)
    load = BookingLoader(busy, set(ids), zone, timedelta(minutes=longest + 1),
                         window=(start, min(end, last + timedelta(days=1))))
    with cyclic_gc_paused():
        slots = search(clinicians=infos, rooms=rooms, busy=busy, closures=closures,
                       site_closures=site_closures, params=params, zone=zone, plan=plan,
                       load=load)
    return [s.as_dict() for s in slots]


class BookingLoader:
    """Fills ``busy`` with the live sessions the search asks for, each day
    and minute read once (see :func:`search`'s ``load``).

    For a few clinicians: their own sessions over the whole window (an
    index range on each), then every room's only at the minutes the search
    names on the days it names (around the clinician's free starts). For many clinicians
    (a modality), whole days at once: most minutes are needed then.
    """

    def __init__(self, busy: BusyIndex, clinician_ids: set[int], zone,
                 lookback: timedelta, window: tuple[date, date]):
        self.busy, self.clinician_ids, self.zone = busy, clinician_ids, zone
        self.lookback, self.window = lookback, window
        self.whole_days = len(clinician_ids) > FEW_CLINICIANS
        self.days: set = set()                  # days read for the clinicians
        self.room_minutes: dict[date, int] = {}  # minutes read for every room
        self.parsed: tuple[dict, dict] = ({}, {})

    def __call__(self, days: set, minutes: int | None) -> None:
        if self.whole_days or minutes is None:
            new = sorted(days - self.days)
            if not new:
                return
            if self.whole_days:
                self.days.update(new)
                self.room_minutes.update((d, FULL_DAY) for d in new)
                ranges = _day_ranges(new, self.zone)
            else:
                # The clinicians' whole window at once, on the first call:
                # one index range each (a few hundred rows) beats picking
                # out days.
                if not self.days:
                    lo = _instant(self.window[0], 0, self.zone)
                    hi = _instant(self.window[1], 0, self.zone)
                    for cid in sorted(self.clinician_ids):
                        self.busy.add_sessions(_busy_rows([(lo, hi)], cid, self.lookback,
                                                          self.parsed), self.clinician_ids)
                self.days.update(days)
                return
        else:
            ranges = []
            for d in sorted(days):
                todo = minutes & ~self.room_minutes.get(d, 0)
                if todo:
                    self.room_minutes[d] = self.room_minutes.get(d, 0) | todo
                    ranges += _minute_ranges(d, todo, self.zone)
            if not ranges:
                return
        self.busy.add_sessions(_busy_rows(ranges, None, self.lookback, self.parsed),
                               self.clinician_ids)


# Up to this many clinicians, bookings are read per clinician, then per
# minutes of the day.
FEW_CLINICIANS = 3


def _day_ranges(days: list, zone) -> list[tuple[datetime, datetime]]:
    """UTC [start, end) of each run of consecutive local days (sorted)."""
    runs: list[list] = []
    for d in days:
        if runs and runs[-1][1] + timedelta(days=1) == d:
            runs[-1][1] = d
        else:
            runs.append([d, d])
    return [(_instant(a, 0, zone), _instant(b + timedelta(days=1), 0, zone)) for a, b in runs]


def _minute_ranges(day: date, mask: int, zone) -> list[tuple[datetime, datetime]]:
    """UTC [start, end) of each run of local minutes in ``mask`` on ``day``;
    an hour wider on a day the offset changes (wall-clock minutes there map
    to instants an hour apart, or twice)."""
    wide = timedelta(hours=0)
    if _instant(day, 0, zone).utcoffset() != _instant(day, 1439, zone).utcoffset():
        wide = timedelta(hours=1)
    return [(_instant(day, a, zone) - wide, _instant(day, b, zone) + wide)
            for a, b in bit_runs(mask)]


def _instant(day: date, minute: int, zone) -> datetime:
    """Local ``minute`` of ``day`` (1440: the next midnight) as a UTC instant,
    without the gap check: a wall-clock time the clocks skip gives an
    instant an hour off, which the ranges' margins absorb."""
    if minute >= DAY_MINUTES:
        day, minute = day + timedelta(days=1), minute - DAY_MINUTES
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone).astimezone(
        timezone.utc)


# Sessions read per query: one index range per run of days or minutes.
# Ranges per statement: SQLite plans an OR of up to a couple of dozen as one
# index search each, but may scan the table beyond that; PostgreSQL's bitmap
# OR takes many, and each statement is a round trip.
RANGES_PER_QUERY = {"sqlite": 12, "postgresql": 64}


def _busy_rows(ranges, clinician_id: int | None, lookback: timedelta,
               parsed: tuple[dict, dict] | None = None) -> list[tuple[int, int, int, int]]:
    """(clinician id, room id, start, end) of the live sessions (of one
    clinician, or all) overlapping the UTC ``ranges`` (those starting up to
    ``lookback`` before one, as a session across its start may), instants as
    whole UTC epoch seconds (start rounded down, end up). Thousands of rows
    may be read per search: making each instant an aware datetime, then a
    local one, was most of the search's time.

    One cached Core select per shape (its rows not passed through the ORM),
    fetched at once; a chunk short of ranges repeats its last one.
    ``parsed`` keeps SQLite's parsed instants across calls.
    """
    parsed = parsed or ({}, {})
    dialect = db.engine.dialect.name
    # A few statement shapes (1, 2, 4, 8 ... ranges) keep padding small.
    n = min(RANGES_PER_QUERY.get(dialect, 12), 1 << (len(ranges) - 1).bit_length())
    stmt = _statement(dialect, clinician_id is not None, n)
    out: list[tuple[int, int, int, int]] = []
    for i in range(0, len(ranges), n):
        chunk = ranges[i:i + n]
        chunk += [chunk[-1]] * (n - len(chunk))
        params = {"cid": clinician_id}
        for k, (lo, hi) in enumerate(chunk):
            params[f"a{k}"], params[f"b{k}"], params[f"c{k}"] = lo - lookback, hi, lo
        rows = db.session.execute(stmt, params).all()
        out += rows if dialect == "postgresql" else _epochs(rows, *parsed)
    return out


@lru_cache(maxsize=32)
def _statement(dialect: str, one_clinician: bool, n: int):
    S = TherapySession.__table__.c
    where = [or_(*(and_(S.starts_at >= bindparam(f"a{k}"), S.starts_at < bindparam(f"b{k}"),
                        S.ends_at > bindparam(f"c{k}")) for k in range(n))),
             S.status.not_in(CANCELLED)]
    if one_clinician:
        where.insert(0, S.clinician_id == bindparam("cid"))
    if dialect == "postgresql":
        return select(S.clinician_id, S.room_id,
                      cast(func.floor(extract("epoch", S.starts_at)), BigInteger),
                      cast(func.ceil(extract("epoch", S.ends_at)), BigInteger)).where(*where)
    # SQLite keeps naive UTC text, parsed in Python (see _epochs).
    return select(S.clinician_id, S.room_id, type_coerce(S.starts_at, String),
                  type_coerce(S.ends_at, String)).where(*where)


def _epochs(rows, starts: dict[str, int], ends: dict[str, int]
            ) -> list[tuple[int, int, int, int]]:
    """SQLite's text instants as epoch seconds: sessions share a few
    thousand instants, so each distinct text is parsed once."""
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

