"""The shape of the seeded practice, computed in memory (no database here).

A *lane* is one weekly slot a clinician keeps all year (weekday, hour, room,
one client or a small group): back-to-back courses of 12-20 weekly
50-minute sessions fill it. Lanes are spread so that no (weekday, hour) has
more lanes than rooms, and each gets its own room, so clinicians and rooms
never overlap by construction; a client is in one course at a time, so
clients never overlap either. The database's overlap guards check all of it
again as the rows go in.

Closures (practice-wide bank holidays, one site day a year) and clinician
absences skip a week, as a booking would, and the course runs a week longer.
"""
from __future__ import annotations

import random
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

ZONE = "Europe/London"
SESSION_MINUTES = 50
# Working hours Monday to Friday: 08:00-12:00 and 13:00-20:00 (two blocks).
BLOCKS = ((time(8), time(12)), (time(13), time(20)))
HOURS = tuple(list(range(8, 12)) + list(range(13, 20)))
SLOTS = tuple((wd, h) for wd in range(5) for h in HOURS)
# A busy practice: 60,000 sessions a year over 40 clinicians is ~29 a week each.
FULL_LOAD_PER_CLINICIAN = 29
COURSE_LENGTHS = (12, 14, 16, 16, 16, 20)


@dataclass
class Lane:
    clinician: int  # index
    weekday: int
    hour: int
    room: int  # index
    size: int  # clients per course
    course: list | None = None  # the course being filled: [id, planned, count, clients]


@dataclass
class Rows:
    """Rows to insert, as tuples in the column order of ``seed.COLUMNS``."""

    courses: list = field(default_factory=list)
    course_clients: list = field(default_factory=list)
    sessions: list = field(default_factory=list)
    participants: list = field(default_factory=list)


def room_layout(rooms: int, sites: int = 3) -> list[tuple[int, int]]:
    """(site index, capacity) per room: two group rooms (8) per site, the rest 1-2."""
    out = []
    for r in range(rooms):
        site = r % sites
        group_room = r // sites < 2
        out.append((site, 8 if group_room else (2 if r % 2 else 1)))
    return out


def plan_lanes(count: int, clinicians: int, rooms: list[tuple[int, int]],
               rng: random.Random, group_share: float = 0.05) -> list[Lane]:
    """``count`` lanes spread evenly over clinicians and (weekday, hour) slots."""
    if count > len(SLOTS) * min(clinicians, len(rooms)):
        raise ValueError(f"{count} weekly lanes do not fit {clinicians} clinicians and "
                         f"{len(rooms)} rooms")
    load = [0] * len(SLOTS)
    used: list[set[int]] = [set() for _ in SLOTS]
    lanes = []
    for c in range(clinicians):
        mine = count // clinicians + (1 if c < count % clinicians else 0)
        order = sorted(range(len(SLOTS)), key=lambda s: (load[s], rng.random()))
        for s in order[:mine]:
            load[s] += 1
            size = rng.randint(3, 6) if rng.random() < group_share else 1
            free = [r for r in range(len(rooms)) if r not in used[s] and rooms[r][1] >= size]
            if not free:
                size = 1
                free = [r for r in range(len(rooms)) if r not in used[s]]
            # Individual courses prefer small rooms, so group rooms stay for groups.
            smallest = min(rooms[r][1] for r in free)
            room = rng.choice([r for r in free if rooms[r][1] == smallest])
            used[s].add(room)
            wd, h = SLOTS[s]
            lanes.append(Lane(c, wd, h, room, size))
    return lanes


def closures_for(first: date, last: date) -> list[tuple[date, int | None, str]]:
    """Bank-holiday-like practice closures, and one day a year for site index 1."""
    out = []
    for y in range(first.year, last.year + 1):
        may = date(y, 5, 1) + timedelta(days=(0 - date(y, 5, 1).weekday()) % 7)
        aug = date(y, 8, 31) - timedelta(days=date(y, 8, 31).weekday())
        jul = date(y, 7, 8) + timedelta(days=(4 - date(y, 7, 8).weekday()) % 7)
        for d, site, why in ((date(y, 1, 1), None, "New Year"), (may, None, "May bank holiday"),
                             (aug, None, "August bank holiday"), (date(y, 12, 25), None, "Christmas"),
                             (date(y, 12, 26), None, "Boxing Day"), (jul, 1, "Site maintenance")):
            if first <= d <= last:
                out.append((d, site, why))
    return out


class Generator:
    """Fills lanes week by week with courses, sessions and participants."""

    def __init__(self, *, rooms: list[tuple[int, int]], clients: int, reserve: int,
                 today: date, rng: random.Random, closures, absences):
        self.rooms = rooms
        self.today = today
        self.rng = rng
        self.clients = clients - reserve
        self.reset_clients()
        self.closed = {(d, site) for d, site, _ in closures}
        self.absent = absences  # set of (clinician index, date)
        self.zone = ZoneInfo(ZONE)
        self.instants: dict[tuple[date, int], datetime] = {}
        self.rows = Rows()
        self.course_id = 0
        self.session_id = 0
        self.participant_id = 0
        self.open: list[list] = []  # every course started, for the course rows
        self.now = datetime.now(timezone.utc)

    def reset_clients(self) -> None:
        self.pool = deque(range(self.clients))

    def instant(self, day: date, hour: int) -> datetime:
        key = (day, hour)
        got = self.instants.get(key)
        if got is None:
            got = datetime.combine(day, time(hour), tzinfo=self.zone).astimezone(timezone.utc)
            self.instants[key] = got
        return got

    def blocked(self, lane: Lane, day: date) -> bool:
        site = self.rooms[lane.room][0]
        return ((day, None) in self.closed or (day, site) in self.closed
                or (lane.clinician, day) in self.absent)

    def capacity(self, lanes: list[Lane], mondays: list[date]) -> int:
        return sum(1 for m in mondays for ln in lanes
                   if not self.blocked(ln, m + timedelta(days=ln.weekday)))

    def fill(self, lanes: list[Lane], mondays: list[date], count: int, skip: int = 0) -> int:
        """Add up to ``count`` sessions; the first ``skip`` lane-weeks stay empty."""
        added = 0
        for monday in mondays:
            finished = []
            for ln in lanes:
                day = monday + timedelta(days=ln.weekday)
                if self.blocked(ln, day):
                    continue
                if skip:
                    skip -= 1
                    continue
                if added == count:
                    break
                self._session(ln, day, finished)
                added += 1
            self.pool.extend(c for course in finished for c in course[3])
            if added == count:
                break
        for ln in lanes:  # courses cut off by the end of the span end here
            if ln.course is not None:
                ln.course[1] = ln.course[2]
                self.pool.extend(ln.course[3])
                ln.course = None
        return added

    def _session(self, ln: Lane, day: date, finished: list) -> None:
        rng = self.rng
        if ln.course is None:
            self.course_id += 1
            clients = [self.pool.popleft() for _ in range(ln.size)]
            ln.course = [self.course_id, rng.choice(COURSE_LENGTHS), 0, clients,
                         ln.clinician, ln.room, ln.weekday, ln.hour, day, day]
            self.open.append(ln.course)
        course = ln.course
        course[2] += 1
        course[9] = day
        self.session_id += 1
        starts = self.instant(day, ln.hour)
        ends = starts + timedelta(minutes=SESSION_MINUTES)
        roll = rng.random()
        if day < self.today:
            status = "attended" if roll < 0.9 else "no_show" if roll < 0.95 else "cancelled_by_client"
        else:
            status = "scheduled" if roll < 0.98 else "cancelled_by_client"
        cancelled = status.startswith("cancelled")
        uid = f"{uuid.UUID(int=rng.getrandbits(128), version=4)}@practice"
        self.rows.sessions.append((
            self.session_id, course[0], course[2], ln.clinician + 1, ln.room + 1, starts, ends,
            status, False,
            "client" if cancelled else None, "Could not come" if cancelled else None,
            starts - timedelta(days=2) if cancelled else None, uid, 1 if cancelled else 0,
            self.now, self.now))
        attendance = status if status in ("attended", "no_show") else None
        for client in course[3]:
            self.participant_id += 1
            self.rows.participants.append((self.participant_id, self.session_id, client + 1,
                                           starts, ends, not cancelled, attendance))
        if course[2] == course[1]:
            finished.append(course)
            ln.course = None

    def course_rows(self) -> None:
        for cid, planned, count, clients, clin, room, wd, hour, first, last in self.open:
            status = "completed" if last < self.today and count >= planned else "active"
            self.rows.courses.append((cid, clin + 1, room + 1, "general", count if count < planned
                                      else planned, wd, time(hour), SESSION_MINUTES, 1, first,
                                      ZONE, status, {}, self.now, self.now))
            self.rows.course_clients.extend((cid, c + 1) for c in clients)


def mondays(first: date, weeks: int) -> list[date]:
    return [first + timedelta(weeks=i) for i in range(weeks)]
