"""The calendar page: day and week, by clinician or by room, for every role.

The page is cheap on purpose: its state lives in the query string (``view``,
``by``, ``date``, ``site_id``), so navigation is a plain link; it carries the
columns (clinicians or rooms) as JSON, and the browser asks
``GET /api/sessions`` once for the events. Without JavaScript (and for
keyboard users) the same sessions come as a table, read through the same
service the API uses (``services.sessions.calendar_sessions``).

A clinician sees only their own column and sessions; only admin and front
desk may drag a session (the move is checked by the reschedule dry run in
``static/js/calendar.js``).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, g, render_template, request, url_for
from sqlalchemy import func, select

from ..extensions import db
from ..models import Clinician, Room, Site, WorkingHours
from ..services.calendar import practice_zone
from ..services.sessions import calendar_sessions
from .common import ANY_ROLE, STAFF, page

bp = Blueprint("web_calendar", __name__)

VIEWS = {"day": "Day", "week": "Week"}
BYS = {"clinician": "By clinician", "room": "By room"}
# Scheduling dates the API accepts (SPEC section 4: 2000 to 2199), so that a
# whole week around any day shown stays inside them.
FIRST_DAY, LAST_DAY = date(2000, 1, 3), date(2199, 12, 24)
# Shown when no clinician has working hours: a practice's usual day.
DEFAULT_HOURS = ("08:00", "20:00")
# A page carries its list of sessions when its grid has at most this many
# columns times days shown (see ``list_inline``): a clinician's own week, a
# small practice's day, a site's few rooms.
MAX_INLINE_COLUMN_DAYS = 24


@dataclass(frozen=True)
class CalendarState:
    """What the page shows: the query string, checked."""

    view: str
    by: str
    day: date
    site_id: int | None

    @property
    def start(self) -> date:
        """The first day shown (weeks start on Monday)."""
        return self.day - timedelta(days=self.day.weekday()) if self.view == "week" else self.day

    @property
    def last(self) -> date:
        """The last day shown (included)."""
        return self.start + timedelta(days=6 if self.view == "week" else 0)

    def step(self) -> timedelta:
        return timedelta(weeks=1) if self.view == "week" else timedelta(days=1)

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query string of this state with ``changes``, for ``url_for``."""
        state = replace(self, **changes)
        out = {"view": state.view, "by": state.by, "date": state.day.isoformat()}
        if state.site_id:
            out["site_id"] = state.site_id
        return out


def read_state(args, user, today: date, sites: dict[int, str]) -> tuple[CalendarState, list[str]]:
    """The state asked for, and a sentence for each value that could not be
    used (the page then shows its default for that value instead)."""
    problems = []
    default_view = "week" if user.role == "clinician" else "day"
    view = args.get("view") or default_view
    if view not in VIEWS:
        problems.append(f"There is no “{_short(view)}” view: choose day or week. "
                        f"Showing the {default_view}.")
        view = default_view
    by = args.get("by") or "clinician"
    if by not in BYS:
        problems.append(f"The calendar can be shown by clinician or by room, not by "
                        f"“{_short(by)}”. Showing it by clinician.")
        by = "clinician"
    day = today
    if args.get("date"):
        try:
            day = date.fromisoformat(args["date"])
        except ValueError:
            problems.append(f"“{_short(args['date'])}” is not a date (YYYY-MM-DD). "
                            "Showing today.")
        else:
            if not FIRST_DAY <= day <= LAST_DAY:
                problems.append(f"The calendar covers {FIRST_DAY:%-d %B %Y} to "
                                f"{LAST_DAY:%-d %B %Y}. Showing today.")
                day = today
    site_id = None
    if args.get("site_id"):
        raw = args["site_id"]
        if raw.isdigit() and int(raw) in sites:
            site_id = int(raw)
        else:
            problems.append(f"There is no site “{_short(raw)}”. Showing all sites.")
    return CalendarState(view, by, day, site_id), problems


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "…"


@dataclass
class Directory:
    """The small lists the page needs: sites, clinicians and rooms by id."""

    sites: dict[int, str]
    clinicians: dict[int, str]
    rooms: dict[int, dict]
    active_clinicians: list[int]
    active_rooms: list[int]


def load_directory() -> Directory:
    sites = dict(db.session.execute(select(Site.id, Site.name).order_by(Site.name)).all())
    clinicians, active_c = {}, []
    for cid, name, active in db.session.execute(
            select(Clinician.id, Clinician.name, Clinician.active).order_by(Clinician.name)):
        clinicians[cid] = name
        if active:
            active_c.append(cid)
    rooms, active_r = {}, []
    for rid, name, site_id, capacity, active in db.session.execute(
            select(Room.id, Room.name, Room.site_id, Room.capacity, Room.active)
            .order_by(Room.site_id, Room.name)):
        rooms[rid] = {"name": name, "site_id": site_id, "site": sites.get(site_id, ""),
                      "capacity": capacity}
        if active:
            active_r.append(rid)
    return Directory(sites, clinicians, rooms, active_c, active_r)


def resources_for(state: CalendarState, user, d: Directory) -> list[dict]:
    """The calendar's columns: clinicians (a clinician: only themselves), or
    the active rooms of the site asked for (of every site: with its name)."""
    if state.by == "clinician":
        if user.role == "clinician":
            ids = [user.clinician_id] if user.clinician_id in d.clinicians else []
        else:
            ids = d.active_clinicians
        return [{"id": cid, "title": d.clinicians[cid]} for cid in ids]
    rooms = [rid for rid in d.active_rooms
             if state.site_id is None or d.rooms[rid]["site_id"] == state.site_id]
    several_sites = state.site_id is None and len(d.sites) > 1
    return [{"id": rid, "title": d.rooms[rid]["name"] + (f" · {d.rooms[rid]['site']}"
                                                           if several_sites else "")}
            for rid in rooms]


def hours_for(clinician_ids: list[int] | None) -> tuple[list[int], str, str]:
    """Weekdays nobody works (EventCalendar's numbering: Sunday is 0), and
    the earliest start and latest end of the working hours shown."""
    q = select(WorkingHours.weekday, func.min(WorkingHours.start), func.max(WorkingHours.end))
    if clinician_ids is not None:
        q = q.where(WorkingHours.clinician_id.in_(clinician_ids))
    rows = db.session.execute(q.group_by(WorkingHours.weekday)).all()
    if not rows:
        return [], *DEFAULT_HOURS
    worked = {wd for wd, _, _ in rows}
    hidden = [(wd + 1) % 7 for wd in range(7) if wd not in worked]
    first = min(a for _, a, _ in rows).hour  # from the hour before the earliest start
    last = max(b for _, _, b in rows)
    last = min(last.hour + (1 if last.minute else 0) + 1, 24)  # to the hour after the latest end
    return hidden, f"{max(first - 1, 0):02d}:00", f"{last:02d}:00"


def table_days(state: CalendarState, items: list[dict], d: Directory) -> list[tuple[date, list]]:
    """The sessions as rows grouped by local day (every day shown, even empty)."""
    by_day: dict[date, list[dict]] = {day: [] for day in _days(state)}
    for day, rows in groupby(items, key=lambda i: i["starts_at"][:10]):
        key = date.fromisoformat(day)
        by_day.setdefault(key, []).extend(_row(i, d) for i in rows)
    return sorted(by_day.items())


def _days(state: CalendarState) -> list[date]:
    return [state.start + timedelta(days=i) for i in range((state.last - state.start).days + 1)]


def _row(item: dict, d: Directory) -> dict:
    room = d.rooms.get(item["room_id"], {"name": f"Room {item['room_id']}", "site": ""})
    k = item["position"]
    return {"course_id": item["course_id"], "number": item["number"],
            "time": f"{item['starts_at'][11:16]}–{item['ends_at'][11:16]}",
            "clinician": d.clinicians.get(item["clinician_id"], ""),
            "room": room["name"], "site": room["site"],
            "k_of_n": f"{k}/{item['count']}" if k else f"–/{item['count']}",
            "initials": " ".join(c["initials"] for c in item["clients"]),
            "status": item["status"], "status_text": item["status"].replace("_", " "),
            "phase": item["phase"]}


def heading(state: CalendarState) -> str:
    if state.view == "day":
        return state.day.strftime("%A %-d %B %Y")
    first, last = state.start, state.last
    if first.month == last.month:
        return f"Week of {first.day}–{last.strftime('%-d %B %Y')}"
    if first.year == last.year:
        return f"Week of {first.strftime('%-d %B')} – {last.strftime('%-d %B %Y')}"
    return f"Week of {first.strftime('%-d %B %Y')} – {last.strftime('%-d %B %Y')}"


def list_inline(state: CalendarState, resources: list[dict], hidden_days: list[int]) -> bool:
    """Whether the page carries its list of sessions itself (a narrow grid),
    or offers it on request: a wide grid's list (40 clinicians: some 240
    rows a day, a thousand a week) would make the page slow to make and to
    show, for a list most users of the grid never open."""
    days = 1 if state.view == "day" else 7 - len(hidden_days)
    return len(resources) * days <= MAX_INLINE_COLUMN_DAYS


def _list_days(user, state: CalendarState, d: Directory) -> tuple[list, int]:
    """The list's rows by day, read through the API's own service."""
    query = {"date_from": state.start, "date_to": state.last}
    if state.site_id:
        query["site_id"] = state.site_id
    items = calendar_sessions(user, query)["items"]
    return table_days(state, items, d), len(items)


def _config(user, state: CalendarState, d: Directory, resources: list[dict]) -> dict:
    """What calendar.js needs, as JSON in the page."""
    shown_clinicians = ([r["id"] for r in resources] if state.by == "clinician"
                        else None if user.role != "clinician" else [user.clinician_id or 0])
    hidden_days, slot_min, slot_max = hours_for(shown_clinicians)
    return {
        "view": state.view, "by": state.by, "date": state.start.isoformat(),
        "today": datetime.now(practice_zone()).date().isoformat(),
        "from": state.start.isoformat(), "to": state.last.isoformat(),
        "site_id": state.site_id, "resources": resources,
        "clinicians": {str(k): v for k, v in d.clinicians.items()},
        "rooms": {str(k): {"name": v["name"], "site": v["site"]} for k, v in d.rooms.items()},
        "editable": user.role in STAFF, "show_names": user.role in STAFF,
        "hidden_days": hidden_days, "slot_min": slot_min, "slot_max": slot_max,
        # The one request for the events (the page preloads it).
        "events_url": "/api/sessions?" + urlencode(
            {"from": state.start.isoformat(), "to": state.last.isoformat(),
             **({"site_id": state.site_id} if state.site_id else {})}),
        "course_url": url_for("web_courses.courses") + "/{id}",
        "reschedule_url": "/api/courses/{course_id}/sessions/{number}/reschedule",
    }


@bp.route("/calendar")
@page(*ANY_ROLE)
def calendar():
    """Day or week, by clinician or by room; events from ``/api/sessions``."""
    user = g.api_user
    today = datetime.now(practice_zone()).date()
    d = load_directory()
    state, problems = read_state(request.args, user, today, d.sites)
    resources = resources_for(state, user, d)
    config = _config(user, state, d, resources)
    inline = list_inline(state, resources, config["hidden_days"])
    days, total = _list_days(user, state, d) if inline else ([], None)
    return render_template(
        "calendar/index.html", state=state, problems=problems, heading=heading(state),
        today=today, views=VIEWS, bys=BYS, sites=d.sites, resources=resources,
        list_inline=inline, days=days, total=total, config=config,
        course_url=config["course_url"],
        is_clinician=user.role == "clinician"), 400 if problems else 200


@bp.route("/calendar/list")
@page(*ANY_ROLE)
def session_list():
    """The calendar's sessions as a list: its own page, or (htmx) the part
    the calendar page opens under its grid."""
    user = g.api_user
    today = datetime.now(practice_zone()).date()
    d = load_directory()
    state, problems = read_state(request.args, user, today, d.sites)
    days, total = _list_days(user, state, d)
    template = "calendar/_list.html" if request.headers.get("HX-Request") else "calendar/list.html"
    return render_template(template, state=state, problems=problems, heading=heading(state),
                           days=days, total=total,
                           course_url=url_for("web_courses.courses") + "/{id}"), \
        400 if problems else 200
