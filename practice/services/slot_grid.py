"""The slot finder's weekly grid: weekday columns, time-of-day rows, and in
each cell how many of the N weeks a clinician and one room (and the chosen
clients) are free for a series starting there.

A cell is one candidate booking: the series a booking would make from the
first such weekday on or after ``from`` (closures and absences skipped, the
series growing at its end, as :func:`practice.services.booking.book_course`
does), in one room for every week, as a booking takes one room. Its state:

- ``all``: clinician, room and clients are free on all N dates and no week
  is skipped; booking it needs nothing more;
- ``skips``: free on all N dates, but only by skipping closures or absences;
- ``none``: not possible; ``free`` says on how many of the N dates the best
  clinician and room are free (e.g. 11 of 16);
- ``off``: outside working hours (or the time window).

For a modality, a cell shows its best clinician. The data comes through the
availability search's own machinery (:func:`series_plan` for the dates,
:class:`BookingLoader` and :class:`BusyIndex` for the bookings as per-day
minute masks), so the grid, the ranked slots and booking agree.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..errors import NotFound, RuleViolation, ValidationFailed, violation
from ..extensions import db
from ..models import (MAX_ID, Absence, Client, Clinician, ClinicianModality, Closure, Course,
                      Room, SessionParticipant, WorkingHours)
from ..scheduling.availability import (MAX_SKIPS, ClinicianInfo, RoomInfo, SearchParams,
                                       fitting_rooms_by_site, search, series_plan)
from ..scheduling.daymask import FULL_DAY, BusyIndex, run_cover, run_starts, span
from ..scheduling.timeutil import exists_locally, from_minutes, minutes, next_weekday_on_or_after
from .availability import SLACK_WEEKS, BookingLoader, cyclic_gc_paused
from .calendar import practice_zone
from .modalities import enabled_modalities

ALL, SKIPS, NONE, OFF = "all", "skips", "none", "off"
STEPS = (15, 30, 60)
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2199, 12, 31)
CLIENTS = ("k", 0)  # the BusyIndex key of the chosen clients' sessions (all of them)


@dataclass
class Cell:
    """One weekday and start time; the best clinician and room for it."""

    weekday: int
    start: int  # minutes after local midnight
    duration: int
    weeks: int
    state: str = NONE
    free: int = 0      # dates of the series on which all are free (best pick)
    skipped: int = 0   # weeks the best pick's series skips (closures, absences)
    clinician_id: int | None = None
    room_id: int | None = None
    first_date: date | None = None

    @property
    def start_time(self) -> str:
        return from_minutes(self.start).strftime("%H:%M")

    @property
    def end_time(self) -> str:
        return from_minutes(min(self.start + self.duration, 1439)).strftime("%H:%M")

    @property
    def pickable(self) -> bool:
        return self.state != OFF and self.room_id is not None


@dataclass
class Grid:
    weeks: int
    duration: int
    step: int
    weekdays: list[int]
    rows: list[int]
    cells: dict[tuple[int, int], Cell]
    notes: list[str] = field(default_factory=list)
    slots: list[dict] = field(default_factory=list)  # the ranked slots, when asked for

    def cell(self, weekday: int, start: int) -> Cell:
        return self.cells[(weekday, start)]

    def table(self) -> list[tuple[str, list[Cell]]]:
        """("HH:MM", the row's cells in weekday order) per row."""
        return [(from_minutes(t).strftime("%H:%M"), [self.cells[(wd, t)] for wd in self.weekdays])
                for t in self.rows]

    def count(self, state: str) -> int:
        return sum(1 for c in self.cells.values() if c.state == state)


# -- the pure part ----------------------------------------------------------------------------
def build_grid(*, clinicians: list[ClinicianInfo], rooms: list[RoomInfo], busy: BusyIndex,
               closures: set[date], site_closures: dict[int, set[date]], params: SearchParams,
               zone: ZoneInfo, step: int = 30, clients: bool = False,
               loader: GridLoader | None = None, plan: dict | None = None) -> Grid:
    """The grid for ``params`` (``weeks``: sessions in the series).

    ``busy`` holds ``("c", clinician id)``, ``("r", room id)`` and, with
    ``clients``, :data:`CLIENTS`. A ``loader``, when given, fills it as it
    is needed: the clinicians' bookings on the series' dates first, then
    every room's at only the minutes each date needs (around the starts the
    clinician has free that day); without one, ``busy`` must hold it all.
    """
    p = params
    weekdays = [p.weekday] if p.weekday is not None else sorted(
        {wd for c in clinicians for wd, blocks in c.hours.items() if blocks})
    blocks = [b for c in clinicians for wd in weekdays for b in c.hours.get(wd) or ()]
    lo = p.earliest if p.earliest is not None else min((a for a, _ in blocks), default=0)
    hi = p.latest if p.latest is not None else max((b for _, b in blocks), default=0)
    rows = list(range(lo, hi - p.duration + 1, step))
    grid = Grid(p.weeks, p.duration, step, weekdays, rows, {})
    by_site = fitting_rooms_by_site(rooms, p.min_capacity)
    if not by_site:
        grid.notes.append(f"No active room holds {p.min_capacity}.")
    if plan is None:
        plan = series_plan(clinicians=clinicians, rooms=rooms, closures=closures,
                           site_closures=site_closures, params=p)
    work = _working_starts(clinicians, weekdays, rows, span(lo, hi), p.duration)
    dates_of: dict[tuple[int, int], set[date]] = {}
    for (cid, wd) in work:
        for site_id in by_site:
            got = plan.get((cid, wd, site_id))
            if got is not None:
                dates_of.setdefault((cid, wd), set()).update(got[0])
    if loader is not None:
        loader({d for ds in dates_of.values() for d in ds}, None)
    # The starts the clinician (and the clients) have free on each date.
    gaps: dict[date, int] = {}
    free_c: dict[tuple[int, date], int] = {}
    need: dict[date, int] = {}
    for (cid, wd), ds in dates_of.items():
        mask, starts = work[(cid, wd)]
        for d in ds:
            gap = gaps.get(d)
            if gap is None:
                gap = gaps[d] = _gap_starts(d, rows, zone)
            free = mask & ~busy.get(("c", cid), d)
            if clients:
                free &= ~busy.get(CLIENTS, d)
            s = free_c[(cid, d)] = run_starts(free, p.duration) & starts & ~gap
            need[d] = need.get(d, 0) | s
    if loader is not None:
        loader.rooms_at({d: run_cover(s, p.duration) for d, s in need.items() if s})
    best: dict[tuple[int, int], tuple] = {}
    for (cid, wd), (_, starts) in sorted(work.items()):
        options = _room_options(cid, wd, by_site, plan, free_c, p)
        for t, key in _best_rooms(options, starts, busy, p.duration).items():
            if (wd, t) not in best or key < best[(wd, t)]:
                best[(wd, t)] = key
    for wd in weekdays:
        first = next_weekday_on_or_after(p.from_date, wd)
        open_rows = 0
        for (_, w), (_, starts) in work.items():
            open_rows |= starts if w == wd else 0
        for t in rows:
            cell = grid.cells[(wd, t)] = Cell(wd, t, p.duration, p.weeks)
            if not open_rows >> t & 1:
                cell.state = OFF
            elif (wd, t) in best:
                neg_count, skips, _, cid, rid = best[(wd, t)]
                cell.free, cell.skipped = -neg_count, skips
                cell.clinician_id, cell.room_id, cell.first_date = cid, rid, first
                cell.state = NONE if cell.free < p.weeks else SKIPS if skips else ALL
    return grid


def _working_starts(clinicians, weekdays, rows, window: int, duration: int) -> dict:
    """(clinician, weekday) -> (working minutes in the window, the rows on
    which a session fits inside them); left out when none fits."""
    row_bits = sum(1 << t for t in rows)
    work = {}
    for c in clinicians:
        for wd in weekdays:
            mask = 0
            for a, b in c.hours.get(wd) or ():
                mask |= span(a, b)
            mask &= window
            starts = run_starts(mask, duration) & row_bits
            if starts:
                work[(c.id, wd)] = (mask, starts)
    return work


def _room_options(cid, wd, by_site, plan, free_c, p) -> list[tuple]:
    """One clinician's rooms on one weekday, best first: fewer weeks skipped
    (a site's own closures), then the smaller room (as the availability
    search prefers), then the room id; each with its series' dates and the
    clinician's free starts on them."""
    first = next_weekday_on_or_after(p.from_date, wd)
    options = []
    for site_id, site_rooms in by_site.items():
        got = plan.get((cid, wd, site_id))
        if got is None:
            continue  # too many closures or absences to make N sessions
        dates, skipped = got
        # Weeks skipped before the first session count too: the booking
        # starts at ``first`` and reports them.
        skips = skipped + (dates[0] - first).days // (7 * p.interval_weeks)
        own = [free_c[(cid, d)] for d in dates]
        options += [((skips, r.capacity, cid, r.id), dates, own) for r in site_rooms]
    options.sort(key=lambda o: o[0])
    return options


def _best_rooms(options, starts: int, busy: BusyIndex, duration: int) -> dict[int, tuple]:
    """start -> (-free dates, skips, capacity, clinician, room) of the best option.

    Options come best first, so a later one wins only with more free dates;
    a start stops being looked at once an option is free on every date the
    clinician is (none can do better), which usually leaves few rooms to
    count after the first ones.
    """
    best: dict[int, tuple] = {}
    if not options:
        return best
    # Upper bound per start: the dates the clinician is free then (any site).
    bound: dict[int, int] = {}
    for own in {tuple(o[1]): o[2] for o in options}.values():  # sites sharing dates, once
        counts: dict[int, int] = {}
        for s in own:
            while s:
                low = s & -s
                t = low.bit_length() - 1
                counts[t] = counts.get(t, 0) + 1
                s ^= low
        for t, n in counts.items():
            if n > bound.get(t, 0):
                bound[t] = n
    key0 = options[0][0]
    todo = starts
    for t in _bits(starts):
        best[t] = (0, *key0)
        if not bound.get(t):
            todo &= ~(1 << t)  # never free: the best option, with none of the weeks
    room_starts: dict[tuple[int, date], int] = {}
    for key, dates, own in options:
        if not todo:
            break
        rid = key[3]
        counts = {}
        for d, s in zip(dates, own):
            s &= todo
            if not s:
                continue
            taken = busy.get(("r", rid), d)
            if taken:  # else the room is free at every start
                rs = room_starts.get((rid, d))
                if rs is None:
                    rs = room_starts[(rid, d)] = run_starts(FULL_DAY & ~taken, duration)
                s &= rs
            m = s
            while m:
                low = m & -m
                t = low.bit_length() - 1
                counts[t] = counts.get(t, 0) + 1
                m ^= low
        for t, n in counts.items():
            if -n < best[t][0]:
                best[t] = (-n, *key)
                if n >= bound[t]:
                    todo &= ~(1 << t)
    return best


def _bits(mask: int):
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _gap_starts(day: date, rows: list[int], zone: ZoneInfo) -> int:
    """Row starts that do not exist on ``day`` (the clocks go forward)."""
    if (datetime.combine(day, time(0), tzinfo=zone).utcoffset()
            == datetime.combine(day, time(23, 59), tzinfo=zone).utcoffset()):
        return 0
    return sum(1 << t for t in rows if not exists_locally(day, from_minutes(t), zone))


# -- input ------------------------------------------------------------------------------------
def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_args(args: dict) -> None:
    """Refuse what the grid cannot answer, field by field (422)."""
    bad = []

    def need_int(key: str, lo: int, hi: int, what: str, optional: bool = False) -> None:
        v = args.get(key)
        if v is None and optional:
            return
        if not _is_int(v) or not lo <= v <= hi:
            bad.append(violation(f"grid.{key}", f"{what} must be a whole number from {lo} to "
                                 f"{hi}.", field=key))

    need_int("weeks", 1, 104, "The number of sessions")
    need_int("duration_minutes", 10, 240, "The duration in minutes")
    need_int("interval_weeks", 1, 8, "The interval in weeks", optional=True)
    need_int("weekday", 0, 6, "The weekday", optional=True)
    need_int("min_capacity", 1, 500, "The room size", optional=True)
    need_int("clinician_id", 1, MAX_ID, "The clinician", optional=True)
    d = args.get("date_from")
    if not isinstance(d, date) or not FIRST_DAY <= d <= LAST_DAY:
        bad.append(violation("grid.from", f"The earliest date must be a date from "
                             f"{FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}.", field="from"))
    for key in ("earliest", "latest"):
        if args.get(key) is not None and not isinstance(args[key], time):
            bad.append(violation(f"grid.{key}", "Give a time as HH:MM.", field=key))
    e, la = args.get("earliest"), args.get("latest")
    if isinstance(e, time) and isinstance(la, time) and e >= la:
        bad.append(violation("grid.window", "The earliest start must be before the latest end.",
                             field="latest"))
    if args.get("step", 30) not in STEPS:
        bad.append(violation("grid.step", "Rows are 15, 30 or 60 minutes apart.", field="step"))
    ids = args.get("client_ids") or []
    if not isinstance(ids, (list, tuple)) or not all(_is_int(i) and 1 <= i <= MAX_ID
                                                     for i in ids) or len(ids) > 50:
        bad.append(violation("grid.client_ids", "Clients are given by up to 50 ids.",
                             field="client_ids"))
    if bad:
        raise ValidationFailed(bad)


def _clinicians(args: dict) -> list[Clinician]:
    """The clinician asked for, or the active ones delivering the modality."""
    key = args.get("modality") or "general"
    if key not in enabled_modalities():
        raise RuleViolation([violation("modality.unknown", f"Modality {key!r} is not enabled "
                                       "here.", field="modality")])
    if args.get("clinician_id") is not None:
        c = db.session.get(Clinician, args["clinician_id"])
        if c is None:
            raise NotFound(f"Clinician {args['clinician_id']} does not exist.",
                           field="clinician_id")
        if not c.active:
            raise RuleViolation([violation("clinician.inactive", f"Clinician {c.id} is not "
                                           "active.", field="clinician_id")])
        if args.get("modality") and key != "general" and key not in c.modalities:
            raise RuleViolation([violation("clinician.modality", f"Clinician {c.id} does not "
                                           f"deliver {key}.", field="clinician_id")])
        return [c]
    q = select(Clinician).where(Clinician.active).order_by(Clinician.id)
    if key != "general":
        q = q.join(ClinicianModality).where(ClinicianModality.modality == key)
    return list(db.session.scalars(q).unique())


# -- loading ----------------------------------------------------------------------------------
class GridLoader(BookingLoader):
    """The availability search's loader, and every room's bookings at a
    different set of minutes on each date, read in one batch."""

    def rooms_at(self, covers: dict[date, int]) -> None:
        """Every room's live sessions at ``covers[d]``'s minutes of each day d.

        The loader reads the same minutes on every day it is given; the
        grid needs, each date, only the minutes around the starts its
        clinician has free then (about half the rows of their union). So
        each date's other minutes are marked as read for the one batched
        call, then put back as they were.
        """
        if self.whole_days or not covers:
            return  # whole days are read already
        union = 0
        for m in covers.values():
            union |= m
        before = {d: self.room_minutes.get(d, 0) for d in covers}
        for d, m in covers.items():
            self.room_minutes[d] = before[d] | (union & ~m)
        self(set(covers), union)
        for d, m in covers.items():
            self.room_minutes[d] = before[d] | m


def slot_grid(args: dict, ranked: int = 0) -> Grid:
    """The grid for validated arguments: ``clinician_id`` or ``modality``,
    ``weeks`` (sessions), ``duration_minutes``, ``date_from``; optional
    ``interval_weeks``, ``weekday``, ``earliest``/``latest`` (times),
    ``min_capacity``, ``client_ids``, ``step`` (15, 30 or 60 minutes).

    With ``ranked``, ``grid.slots`` holds the availability search's best
    ``ranked`` slots for the same question, as ``GET /api/availability``
    answers them (:func:`practice.services.availability.find_slots`): the
    same search with the same bounds, on the bookings the grid has read
    already (it reads only what is missing), so the page pays for one
    load, not two. Like the API, it does not look at the clients.

    Raises ValidationFailed or RuleViolation (422), NotFound (404).
    """
    check_args(args)
    zone = practice_zone()
    client_ids = list(dict.fromkeys(args.get("client_ids") or []))
    if client_ids:
        found = set(db.session.scalars(select(Client.id).where(Client.id.in_(client_ids))))
        missing = [i for i in client_ids if i not in found]
        if missing:
            raise NotFound(f"Client {', '.join(map(str, missing))} does not exist.",
                           field="client_ids")
    chosen = _clinicians(args)
    interval = args.get("interval_weeks") or 1
    params = SearchParams(
        weeks=args["weeks"], duration=args["duration_minutes"], from_date=args["date_from"],
        weekday=args.get("weekday"),
        earliest=minutes(args["earliest"]) if args.get("earliest") else None,
        latest=minutes(args["latest"]) if args.get("latest") else None,
        min_capacity=max(args.get("min_capacity") or 1, len(client_ids)),
        interval_weeks=interval)
    start = params.from_date
    # Far enough for every series the booking could make (MAX_SKIPS weeks skipped).
    end = start + timedelta(weeks=(params.weeks + MAX_SKIPS + 1) * interval)
    infos = _clinician_infos([c.id for c in chosen], start, end)
    rooms = [RoomInfo(r.id, r.site_id, r.capacity) for r in db.session.execute(
        select(Room.id, Room.site_id, Room.capacity).where(Room.active))]
    closures, site_closures = set(), {}
    for d, site_id in db.session.execute(select(Closure.date, Closure.site_id)
                                         .where(Closure.date >= start, Closure.date <= end)):
        (closures.add(d) if site_id is None else site_closures.setdefault(site_id, set()).add(d))
    busy = BusyIndex(zone)
    longest = db.session.scalar(select(func.max(Course.duration_minutes))) or 0
    lookback = timedelta(minutes=longest + 1)
    plan = series_plan(clinicians=infos, rooms=rooms, closures=closures,
                       site_closures=site_closures, params=params)
    last = max((got[0][-1] for got in plan.values() if got), default=start)
    loader = GridLoader(busy, {c.id for c in infos}, zone, lookback,
                        window=(start, last + timedelta(days=1)))
    with cyclic_gc_paused():
        if client_ids:
            _load_clients(busy, client_ids, start, last + timedelta(days=1), zone, lookback)
        grid = build_grid(clinicians=infos, rooms=rooms, busy=busy, closures=closures,
                          site_closures=site_closures, params=params, zone=zone,
                          step=args.get("step", 30), clients=bool(client_ids), loader=loader,
                          plan=plan)
        if ranked:
            # find_slots' own bounds: series reaching past its window are left out.
            p = replace(params, limit=ranked, horizon=start + timedelta(
                weeks=params.weeks * interval + SLACK_WEEKS))
            grid.slots = [s.as_dict() for s in search(
                clinicians=infos, rooms=rooms, busy=busy, closures=closures,
                site_closures=site_closures, params=p, zone=zone, load=loader,
                plan=series_plan(clinicians=infos, rooms=rooms, closures=closures,
                                 site_closures=site_closures, params=p))]
    if not chosen:
        grid.notes.append("No active clinician delivers this modality.")
    return grid


def _clinician_infos(ids: list[int], start: date, end: date) -> list[ClinicianInfo]:
    """Working hours and absences of the clinicians, in two statements."""
    hours: dict[int, dict[int, list]] = {i: {} for i in ids}
    if not ids:
        return []
    for cid, wd, a, b in db.session.execute(
            select(WorkingHours.clinician_id, WorkingHours.weekday, WorkingHours.start,
                   WorkingHours.end).where(WorkingHours.clinician_id.in_(ids))):
        hours[cid].setdefault(wd, []).append((minutes(a), minutes(b)))
    absences: dict[int, list] = {}
    for cid, a, b in db.session.execute(
            select(Absence.clinician_id, Absence.start_date, Absence.end_date)
            .where(Absence.clinician_id.in_(ids), Absence.end_date >= start,
                   Absence.start_date <= end)):
        absences.setdefault(cid, []).append((a, b))
    return [ClinicianInfo(i, hours[i], absences.get(i, [])) for i in ids]


def _load_clients(busy: BusyIndex, client_ids: list[int], start: date, end: date,
                  zone: ZoneInfo, lookback: timedelta) -> None:
    """The chosen clients' live sessions in the window, under one key."""
    lo = datetime.combine(start, time(0), tzinfo=zone) - lookback
    hi = datetime.combine(end, time(0), tzinfo=zone)
    P = SessionParticipant
    for s, e in db.session.execute(select(P.starts_at, P.ends_at).where(
            P.client_id.in_(client_ids), P.active, P.starts_at >= lo, P.starts_at < hi)):
        busy.add(CLIENTS, s, e)
