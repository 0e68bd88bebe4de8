"""Use cases for the practice's directory: clinicians, rooms, sites, clients,
closures and absences. Each writes its audit row in the same transaction."""
from __future__ import annotations

import re
from datetime import date, time
from typing import Any

from sqlalchemy import select

from ..audit import record
from ..errors import Conflict, NotFound, ValidationFailed, violation
from ..extensions import db
from ..models import (MAX_ID, Absence, Client, Clinician, ClinicianModality, Closure, Room,
                      Site, WorkingHours)


def get_or_404(model, object_id: int | None, what: str):
    """The row, or NotFound naming the kind of object and its id."""
    found = isinstance(object_id, int) and 0 < object_id <= MAX_ID
    obj = db.session.get(model, object_id) if found else None
    if obj is None:
        raise NotFound(f"{what} {object_id} does not exist.")
    return obj


def _check_working_hours(blocks: list[dict]) -> None:
    problems = []
    by_day: dict[int, list[tuple[time, time]]] = {}
    for i, b in enumerate(blocks):
        if b["start"] >= b["end"]:
            problems.append(violation("working_hours.order", "start must be before end",
                                      field=f"working_hours.{i}"))
            continue
        by_day.setdefault(b["weekday"], []).append((b["start"], b["end"]))
    for day, spans in by_day.items():
        spans.sort()
        for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
            if s2 < e1:
                problems.append(violation(
                    "working_hours.overlap", f"blocks on weekday {day} overlap",
                    field="working_hours"))
    if problems:
        raise ValidationFailed(problems)


def _apply_clinician(c: Clinician, data: dict[str, Any]) -> list[str]:
    """Apply ``data`` to ``c``; return the names of the fields that changed."""
    if "working_hours" in data:
        _check_working_hours(data["working_hours"])  # before anything is touched
    changed = []
    for key in ("name", "email", "active"):
        if key in data and getattr(c, key) != data[key]:
            setattr(c, key, data[key])
            changed.append(key)
    if "working_hours" in data:
        new = sorted((b["weekday"], b["start"], b["end"]) for b in data["working_hours"])
        old = sorted((w.weekday, w.start, w.end) for w in c.working_hours)
        if new != old:
            c.working_hours = [WorkingHours(weekday=d, start=s, end=e) for d, s, e in new]
            changed.append("working_hours")
    if "modalities" in data:
        new_modalities = sorted(set(data["modalities"]))
        if new_modalities != c.modalities:
            c.modality_rows = [ClinicianModality(modality=m) for m in new_modalities]
            changed.append("modalities")
    return changed


def _unique_email(model, email: str, exclude_id: int | None = None) -> None:
    q = select(model.id).where(db.func.lower(model.email) == email.lower())
    if exclude_id is not None:
        q = q.where(model.id != exclude_id)
    if db.session.scalar(q) is not None:
        raise Conflict("That email address is already in use.", field="email")


def create_clinician(data: dict) -> Clinician:
    _unique_email(Clinician, data["email"])
    c = Clinician(active=True)
    _apply_clinician(c, {"active": True, **data})
    db.session.add(c)
    db.session.flush()
    record("create", "clinician", c.id, fields=sorted(data))
    db.session.commit()
    return c


def update_clinician(c: Clinician, data: dict) -> Clinician:
    if "email" in data:
        _unique_email(Clinician, data["email"], c.id)
    changed = _apply_clinician(c, data)
    if changed:  # a no-op PATCH changes nothing, so it is not audited
        record("update", "clinician", c.id, fields=changed)
    db.session.commit()
    return c


def create_site(data: dict) -> Site:
    if db.session.scalar(select(Site.id).where(Site.name == data["name"])):
        raise Conflict("A site with that name exists.", field="name")
    s = Site(**data)
    db.session.add(s)
    db.session.flush()
    record("create", "site", s.id, fields=sorted(data))
    db.session.commit()
    return s


def default_site() -> Site:
    site = db.session.scalar(select(Site).order_by(Site.id).limit(1))
    if site is None:
        site = Site(name="Main site")
        db.session.add(site)
        db.session.flush()
        record("create", "site", site.id, fields=["name"])
    return site


def create_room(data: dict) -> Room:
    data = dict(data)
    if data.get("site_id") is None:
        data["site_id"] = default_site().id
    else:
        get_or_404(Site, data["site_id"], "Site")
    r = Room(**{"active": True, "capacity": 1, "attributes": [], **data})
    db.session.add(r)
    db.session.flush()
    record("create", "room", r.id, fields=sorted(data))
    db.session.commit()
    return r


def update_room(r: Room, data: dict) -> Room:
    if "site_id" in data:
        if data["site_id"] is None:
            # On create a missing site means "the first site"; a room cannot
            # be moved to no site at all.
            raise ValidationFailed([violation("schema", "A room must belong to a site.",
                                              field="site_id")])
        get_or_404(Site, data["site_id"], "Site")
    changed = [k for k, v in data.items() if getattr(r, k) != v]
    for k, v in data.items():
        setattr(r, k, v)
    if changed:  # a no-op PATCH changes nothing, so it is not audited
        record("update", "room", r.id, fields=changed)
    db.session.commit()
    return r


def create_client(data: dict) -> Client:
    c = Client(**data)
    db.session.add(c)
    db.session.flush()
    record("create", "client", c.id, fields=sorted(data))
    db.session.commit()
    return c


def update_client(c: Client, data: dict) -> Client:
    changed = [k for k, v in data.items() if getattr(c, k) != v]
    for k, v in data.items():
        setattr(c, k, v)
    if changed:  # a no-op PATCH changes nothing, so it is not audited
        record("update", "client", c.id, fields=changed)
    db.session.commit()
    return c


def create_closure(data: dict) -> Closure:
    if data.get("site_id") is not None:
        get_or_404(Site, data["site_id"], "Site")
    same = select(Closure.id).where(Closure.date == data["date"])
    same = same.where(Closure.site_id.is_(None) if data.get("site_id") is None
                      else Closure.site_id == data["site_id"])
    existing = db.session.scalar(same.limit(1))
    if existing is not None:
        raise Conflict(f"Closure {existing} already closes "
                       f"{'the practice' if data.get('site_id') is None else 'this site'} on "
                       f"{data['date'].isoformat()}.", conflicts=[{"closure_id": existing}])
    cl = Closure(**data)
    db.session.add(cl)
    db.session.flush()
    record("create", "closure", cl.id, date=cl.date.isoformat(), site_id=cl.site_id)
    db.session.commit()
    return cl


def delete_closure(cl: Closure) -> None:
    record("delete", "closure", cl.id, date=cl.date.isoformat())
    db.session.delete(cl)
    db.session.commit()


def create_absence(clinician: Clinician, data: dict) -> Absence:
    if data["start_date"] > data["end_date"]:
        raise ValidationFailed([violation("absence.order", "start_date must not be after end_date",
                                          field="end_date")])
    a = Absence(clinician_id=clinician.id, **data)
    db.session.add(a)
    db.session.flush()
    record("create", "absence", a.id, clinician_id=clinician.id,
           start_date=a.start_date.isoformat(), end_date=a.end_date.isoformat())
    db.session.commit()
    return a


def delete_absence(a: Absence) -> None:
    record("delete", "absence", a.id, clinician_id=a.clinician_id)
    db.session.delete(a)
    db.session.commit()


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def client_search(text: str):
    """The filter for ``?q=``: a real YYYY-MM-DD date matches the date of
    birth exactly; anything else is a case-insensitive part of the name
    (``icontains``: ILIKE on PostgreSQL, lower() LIKE lower() on SQLite,
    with ``%`` and ``_`` in the text taken literally)."""
    text = text.strip()
    if ISO_DATE.match(text):
        try:
            return Client.date_of_birth == date.fromisoformat(text)
        except ValueError:
            pass  # 2020-02-30 is no date: search names for it (finds nothing)
    return Client.name.icontains(text, autoescape=True)
