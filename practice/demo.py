"""The demo practice: two sites, eight rooms, seven clinicians, thirty-four
clients, a user per role, a closure, an absence and some thirty courses
(``services/demo_courses.py``), so a newcomer's first calendar looks like a
real practice's.

Idempotent: everything is found by a natural key (site and client name,
room name, clinician email, closure and absence reason) and only what is
missing is added, so a second run changes nothing and a database with an
older, smaller demo is completed rather than duplicated.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from .extensions import db
from .models import (Absence, Client, Clinician, ClinicianModality, Closure, PracticeSettings,
                     Room, Site, User, WorkingHours)
from .services.accounts import create_user
from .services.calendar import practice_zone
from .services.directory import create_absence, create_closure

DEMO_USERS = [
    ("admin@demo.practice", "admin", "demo-admin-1", None),
    ("frontdesk@demo.practice", "front_desk", "demo-frontdesk-1", None),
    ("okafor@demo.practice", "clinician", "demo-clinician-1", "okafor@demo.practice"),
]
MAIN, RIVERSIDE = "Demo Practice, Main Street", "Demo Practice, Riverside"
SITES = [(MAIN, "1 Main Street"), (RIVERSIDE, "22 River Road")]
# name, site, capacity, attributes
ROOMS = [
    ("Room 1", MAIN, 1, []), ("Room 2", MAIN, 1, ["accessible"]), ("Room 3", MAIN, 2, []),
    ("Group Room", MAIN, 10, ["accessible"]),
    ("Riverside 1", RIVERSIDE, 1, ["accessible"]), ("Riverside 2", RIVERSIDE, 1, []),
    ("Riverside 3", RIVERSIDE, 3, ["family"]), ("Garden Room", RIVERSIDE, 8, ["accessible"]),
]
MON_FRI, MON_THU = (0, 1, 2, 3, 4), (0, 1, 2, 3)
# name, email, modalities, working hours as (weekdays, "HH:MM", "HH:MM") blocks
CLINICIANS = [
    ("Dr Ada Okafor", "okafor@demo.practice", ["general", "ipt", "ipt-m"],
     [(MON_THU, "09:00", "12:30"), (MON_THU, "13:30", "18:00"), ((4,), "09:00", "13:00")]),
    ("Dr Ben Lindqvist", "lindqvist@demo.practice", ["general", "ipt", "ipt-g"],
     [(MON_FRI, "08:00", "12:00"), (MON_FRI, "13:00", "16:00")]),
    ("Dr Chiara Russo", "russo@demo.practice", ["general", "ipt-a", "ipt-b"],
     [((0, 2, 4), "10:00", "18:00"), ((1, 3), "12:00", "20:00")]),
    ("Dr Dev Patel", "patel@demo.practice", ["general"],
     [(MON_FRI, "09:00", "12:00"), (MON_FRI, "13:00", "17:00")]),
    ("Dr Eva Mensah", "mensah@demo.practice", ["general", "ipt", "ipt-m"],
     [((1, 2, 3), "08:30", "12:30"), ((1, 2, 3), "13:30", "16:30"),
      ((1, 2, 3), "17:00", "20:00")]),
    ("Dr Farah Haddad", "haddad@demo.practice", ["general", "ipt", "ipt-b"],
     [((0, 2, 3), "09:00", "15:00")]),
    ("Dr Gabriel Silva", "silva@demo.practice", ["general", "ipt-a", "ipt-g", "ipt-m"],
     [((1, 4), "09:00", "12:00"), ((1, 4), "13:00", "19:00"), ((5,), "09:00", "13:00")]),
]
# name, age in years (adolescents for IPT-A). Invented people: contact
# details on the reserved example.org domain and Ofcom's drama numbers.
CLIENTS = [
    ("Alex Morgan", 34), ("Blake Carter", 41), ("Casey Jordan", 29), ("Drew Ellis", 52),
    ("Emery Fox", 38), ("Finley Grant", 45), ("Gray Hughes", 61), ("Harper Irving", 27),
    ("Indy James", 33), ("Jesse Kim", 47), ("Kai Lopez", 36), ("Logan Moss", 24),
    ("Morgan Nash", 58), ("Noel Owens", 31), ("Oakley Price", 43), ("Parker Quinn", 39),
    ("Quinn Reyes", 50), ("Reese Shaw", 15), ("Sage Turner", 16), ("Taylor Vance", 30),
    ("Uma Walsh", 44), ("Val Young", 35), ("Wren Abbott", 26), ("Xavi Brooks", 48),
    ("Yara Coleman", 37), ("Zane Dalton", 55), ("Ari Bennett", 22), ("Bo Castillo", 14),
    ("Cam Delgado", 40), ("Dana Ellison", 32), ("Eli Farrow", 46), ("Frankie Hale", 28),
    ("Gale Ingram", 63), ("Hollis Jude", 57),
]
CLOSURE_REASON = "Staff training day"
ABSENCE = ("mensah@demo.practice", "Annual leave")


def load_demo() -> str:
    """Create what is missing of the demo; return the text to print."""
    today = datetime.now(practice_zone()).date()
    created = _directory(today)
    lines = []
    for email, role, password, clinician_email in DEMO_USERS:
        if db.session.scalar(select(User.id).where(User.email == email)) is None:
            cid = None
            if clinician_email:
                # by email, the key the clinicians above are found by: a
                # practice may have renamed its demo clinician
                cid = db.session.scalar(
                    select(Clinician.id).where(Clinician.email == clinician_email))
            create_user(email, role, password, clinician_id=cid)
            created += 1
        lines.append(f"  {role:<11} {email:<26} password: {password}")
    created += _closure_and_absence(today)
    report = _demo_courses(today)
    created += report.get("objects", 0)
    head = (f"Demo practice loaded ({created} objects created)." if created
            else "Demo practice already loaded; nothing changed.")
    return "\n".join([head, *report.get("lines", []), "Demo logins (one per role):", *lines])


def _hm(text: str) -> time:
    return time.fromisoformat(text)


def _directory(today: date) -> int:
    """Practice settings, sites, rooms, clinicians and clients; one commit."""
    created = 0
    if db.session.scalar(select(PracticeSettings.id)) is None:
        db.session.add(PracticeSettings(name="Demo Practice"))
        created += 1
    sites = {}
    for name, address in SITES:
        site = db.session.scalar(select(Site).where(Site.name == name))
        if site is None:
            site = Site(name=name, address=address)
            db.session.add(site)
            db.session.flush()
            created += 1
        sites[name] = site
    existing_rooms = set(db.session.scalars(select(Room.name)))
    for name, site_name, cap, attrs in ROOMS:
        if name not in existing_rooms:
            db.session.add(Room(name=name, site_id=sites[site_name].id, capacity=cap,
                                active=True, attributes=attrs))
            created += 1
    existing = set(db.session.scalars(select(Clinician.email)))
    for name, email, modalities, blocks in CLINICIANS:
        if email not in existing:
            c = Clinician(name=name, email=email, active=True)
            c.modality_rows = [ClinicianModality(modality=m) for m in modalities]
            c.working_hours = [WorkingHours(weekday=d, start=_hm(a), end=_hm(b))
                               for days, a, b in blocks for d in days]
            db.session.add(c)
            created += 1
    existing = set(db.session.scalars(select(Client.name)))
    for i, (name, age) in enumerate(CLIENTS):
        if name not in existing:
            born = date(today.year - age, 1 + (i * 5) % 12, 1 + (i * 7) % 28)
            db.session.add(Client(name=name, date_of_birth=born,
                                  email=name.lower().replace(" ", ".") + "@example.org",
                                  phone=f"07700 900{100 + i * 7:03d}"))
            created += 1
    db.session.commit()
    return created


def _closure_and_absence(today: date) -> int:
    """A staff training day (the Monday three weeks on) and a week of leave five weeks on,
    through the directory's use cases (audited) and before any course is
    booked, so the series skip them and the booking answers say so."""
    created = 0
    monday = today - timedelta(days=today.weekday())
    if db.session.scalar(select(Closure.id).where(Closure.reason == CLOSURE_REASON)) is None:
        create_closure({"date": monday + timedelta(weeks=3), "reason": CLOSURE_REASON,
                        "site_id": None})
        created += 1
    email, reason = ABSENCE
    clinician = db.session.scalar(select(Clinician).where(Clinician.email == email))
    if clinician is not None and db.session.scalar(
            select(Absence.id).where(Absence.clinician_id == clinician.id,
                                     Absence.reason == reason)) is None:
        start = monday + timedelta(weeks=5)
        create_absence(clinician, {"start_date": start, "end_date": start + timedelta(days=4),
                                   "reason": reason})
        created += 1
    return created


def _demo_courses(today: date) -> dict:
    """Book the demo courses and record past attendance."""
    from .services.demo_courses import book_demo_courses

    return book_demo_courses(today)
