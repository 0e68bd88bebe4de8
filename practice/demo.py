"""A small demo practice: one site, 4 rooms, 5 clinicians, 20 clients, a
user per role and a few booked courses. Idempotent: a second run finds the
demo in place and changes nothing."""
from __future__ import annotations

from datetime import time

from sqlalchemy import select

from .extensions import db
from .models import Client, Clinician, ClinicianModality, PracticeSettings, Room, Site, User, WorkingHours
from .services.accounts import create_user

DEMO_USERS = [
    ("admin@demo.practice", "admin", "demo-admin-1", None),
    ("frontdesk@demo.practice", "front_desk", "demo-frontdesk-1", None),
    ("okafor@demo.practice", "clinician", "demo-clinician-1", "okafor@demo.practice"),
]
CLINICIANS = [
    ("Dr Ada Okafor", "okafor@demo.practice", ["general", "ipt", "ipt-m"]),
    ("Dr Ben Lindqvist", "lindqvist@demo.practice", ["general", "ipt", "ipt-g"]),
    ("Dr Chiara Russo", "russo@demo.practice", ["general", "ipt-a", "ipt-b"]),
    ("Dr Dev Patel", "patel@demo.practice", ["general"]),
    ("Dr Eva Mensah", "mensah@demo.practice", ["general", "ipt", "ipt-m"]),
]
ROOMS = [("Room 1", 1, []), ("Room 2", 1, ["accessible"]), ("Room 3", 2, []),
         ("Group Room", 10, ["accessible"])]
CLIENTS = ["Alex Morgan", "Blake Carter", "Casey Jordan", "Drew Ellis", "Emery Fox",
           "Finley Grant", "Gray Hughes", "Harper Irving", "Indy James", "Jesse Kim",
           "Kai Lopez", "Logan Moss", "Morgan Nash", "Noel Owens", "Oakley Price",
           "Parker Quinn", "Quinn Reyes", "Reese Shaw", "Sage Turner", "Taylor Vance"]


def load_demo() -> str:
    """Create what is missing of the demo; return the text to print."""
    created = 0
    if db.session.scalar(select(PracticeSettings.id)) is None:
        db.session.add(PracticeSettings(name="Demo Practice"))
        created += 1
    site = db.session.scalar(select(Site).where(Site.name == "Demo Practice, Main Street"))
    if site is None:
        site = Site(name="Demo Practice, Main Street", address="1 Main Street")
        db.session.add(site)
        db.session.flush()
        created += 1
    for name, cap, attrs in ROOMS:
        if db.session.scalar(select(Room.id).where(Room.name == name, Room.site_id == site.id)) is None:
            db.session.add(Room(name=name, site_id=site.id, capacity=cap, active=True,
                                attributes=attrs))
            created += 1
    for name, email, modalities in CLINICIANS:
        if db.session.scalar(select(Clinician.id).where(Clinician.email == email)) is None:
            c = Clinician(name=name, email=email, active=True)
            c.modality_rows = [ClinicianModality(modality=m) for m in modalities]
            c.working_hours = [WorkingHours(weekday=d, start=time(9), end=time(12, 30))
                               for d in range(5)] + [
                WorkingHours(weekday=d, start=time(13, 30), end=time(18)) for d in range(4)]
            db.session.add(c)
            created += 1
    for name in CLIENTS:
        if db.session.scalar(select(Client.id).where(Client.name == name)) is None:
            db.session.add(Client(name=name, email=name.lower().replace(" ", ".") + "@example.org"))
            created += 1
    db.session.commit()
    lines = []
    for email, role, password, clinician_email in DEMO_USERS:
        if db.session.scalar(select(User.id).where(User.email == email)) is None:
            cid = None
            if clinician_email:
                # by email, the key the clinicians above are found by: a
                # practice may have renamed its demo clinician
                cid = db.session.scalar(select(Clinician.id).where(Clinician.email == clinician_email))
            create_user(email, role, password, clinician_id=cid)
            created += 1
        lines.append(f"  {role:<11} {email:<26} password: {password}")
    created += _demo_courses()
    head = (f"Demo practice loaded ({created} objects created)." if created
            else "Demo practice already loaded; nothing changed.")
    return "\n".join([head, "Demo logins:", *lines])


def _demo_courses() -> int:
    """Book a handful of courses (filled in by the scheduling engine)."""
    try:
        from .services.demo_courses import book_demo_courses
    except ImportError:
        return 0
    return book_demo_courses()
