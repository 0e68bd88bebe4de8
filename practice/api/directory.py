"""Clinicians, sites, rooms, clients, closures and absences (thin views)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from ..audit import record_read
from ..auth import ANY_ROLE, current_api_user, roles_required
from ..errors import NotFound
from ..extensions import db
from ..models import Absence, Client, Clinician, Closure, Course, CourseClient, Room, Site
from ..services import directory as svc
from .common import ListArgs, paginate
from .schemas import (AbsenceList, AbsenceSchema, ClientList, ClientListArgs, ClientSchema,
                      ClinicianList, ClinicianSchema, ClosureList, ClosureSchema, RoomList, RoomSchema,
                      SiteList, SiteSchema, for_update)

blp = Blueprint("directory", __name__, url_prefix="/api",
                description="Clinicians, rooms, sites, clients, closures and absences")


def _visible_clinician(clinician_id: int) -> Clinician:
    user = current_api_user()
    c = svc.get_or_404(Clinician, clinician_id, "Clinician")
    if user.role == "clinician" and user.clinician_id != c.id:
        raise NotFound(f"Clinician {clinician_id} does not exist.")
    return c


def _clinician_client_ids(clinician_id: int):
    return (select(CourseClient.client_id).join(Course, Course.id == CourseClient.course_id)
            .where(Course.clinician_id == clinician_id))


def visible_client(client_id: int) -> Client:
    """A client the current user may see (clinicians: only their own)."""
    user = current_api_user()
    c = svc.get_or_404(Client, client_id, "Client")
    if user.role == "clinician":
        own = db.session.scalar(_clinician_client_ids(user.clinician_id or 0)
                                .where(CourseClient.client_id == c.id).limit(1))
        if own is None:
            raise NotFound(f"Client {client_id} does not exist.")
    return c


# -- clinicians ---------------------------------------------------------------
@blp.route("/clinicians")
class Clinicians(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, ClinicianList)
    def get(self, args):
        """List clinicians (a clinician sees only their own record)."""
        q = select(Clinician).order_by(Clinician.id)
        user = current_api_user()
        if user.role == "clinician":
            q = q.where(Clinician.id == (user.clinician_id or 0))
        return paginate(q, args, db.session)

    @roles_required("admin")
    @blp.arguments(ClinicianSchema)
    @blp.response(201, ClinicianSchema)
    def post(self, data):
        """Create a clinician (admin)."""
        return svc.create_clinician(data)


@blp.route("/clinicians/<int:clinician_id>")
class ClinicianItem(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.response(200, ClinicianSchema)
    def get(self, clinician_id):
        """Read one clinician."""
        return _visible_clinician(clinician_id)

    @roles_required("admin")
    @blp.arguments(for_update(ClinicianSchema))
    @blp.response(200, ClinicianSchema)
    def patch(self, data, clinician_id):
        """Update a clinician (admin)."""
        return svc.update_clinician(svc.get_or_404(Clinician, clinician_id, "Clinician"), data)


@blp.route("/clinicians/<int:clinician_id>/absences")
class Absences(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, AbsenceList)
    def get(self, args, clinician_id):
        """List a clinician's absences."""
        c = _visible_clinician(clinician_id)
        q = select(Absence).where(Absence.clinician_id == c.id).order_by(Absence.start_date)
        return paginate(q, args, db.session)

    @roles_required(*ANY_ROLE)
    @blp.arguments(AbsenceSchema)
    @blp.response(201, AbsenceSchema)
    def post(self, data, clinician_id):
        """Record an absence (admin, front desk, or the clinician themself)."""
        return svc.create_absence(_visible_clinician(clinician_id), data)


@blp.route("/clinicians/<int:clinician_id>/absences/<int:absence_id>")
class AbsenceItem(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.response(204)
    def delete(self, clinician_id, absence_id):
        """Delete an absence."""
        c = _visible_clinician(clinician_id)
        a = svc.get_or_404(Absence, absence_id, "Absence")
        if a.clinician_id != c.id:
            raise NotFound(f"Absence {absence_id} does not exist.")
        svc.delete_absence(a)


# -- sites and rooms ----------------------------------------------------------
@blp.route("/sites")
class Sites(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, SiteList)
    def get(self, args):
        """List sites."""
        return paginate(select(Site).order_by(Site.id), args, db.session)

    @roles_required("admin")
    @blp.arguments(SiteSchema)
    @blp.response(201, SiteSchema)
    def post(self, data):
        """Create a site (admin)."""
        return svc.create_site(data)


@blp.route("/rooms")
class Rooms(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, RoomList)
    def get(self, args):
        """List rooms."""
        return paginate(select(Room).order_by(Room.id), args, db.session)

    @roles_required("admin")
    @blp.arguments(RoomSchema)
    @blp.response(201, RoomSchema)
    def post(self, data):
        """Create a room (admin); without site_id it goes to the first site."""
        return svc.create_room(data)


@blp.route("/rooms/<int:room_id>")
class RoomItem(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.response(200, RoomSchema)
    def get(self, room_id):
        """Read one room."""
        return svc.get_or_404(Room, room_id, "Room")

    @roles_required("admin")
    @blp.arguments(for_update(RoomSchema))
    @blp.response(200, RoomSchema)
    def patch(self, data, room_id):
        """Update a room (admin)."""
        return svc.update_room(svc.get_or_404(Room, room_id, "Room"), data)


# -- clients ------------------------------------------------------------------
@blp.route("/clients")
class Clients(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(ClientListArgs, location="query")
    @blp.response(200, ClientList)
    def get(self, args):
        """List clients, or search them with ``q`` (name or date of birth);
        a clinician sees only clients of their own courses."""
        q = select(Client).order_by(Client.id)
        user = current_api_user()
        if user.role == "clinician":
            q = q.where(Client.id.in_(_clinician_client_ids(user.clinician_id or 0)))
        if args.get("q"):
            q = q.where(svc.client_search(args["q"]))
        page = paginate(q, args, db.session)
        # who read which client records (ids only; never the search text)
        record_read("list", "client", None, client_ids=[c.id for c in page["items"]],
                    searched=bool(args.get("q")))
        return page

    @roles_required("admin", "front_desk")
    @blp.arguments(ClientSchema)
    @blp.response(201, ClientSchema)
    def post(self, data):
        """Create a client (admin, front desk)."""
        return svc.create_client(data)


@blp.route("/clients/<int:client_id>")
class ClientItem(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.response(200, ClientSchema)
    def get(self, client_id):
        """Read one client (audited)."""
        client = visible_client(client_id)
        record_read("view", "client", client.id)
        return client

    @roles_required("admin", "front_desk")
    @blp.arguments(for_update(ClientSchema))
    @blp.response(200, ClientSchema)
    def patch(self, data, client_id):
        """Update a client (admin, front desk)."""
        return svc.update_client(svc.get_or_404(Client, client_id, "Client"), data)


# -- closures -----------------------------------------------------------------
@blp.route("/closures")
class Closures(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, ClosureList)
    def get(self, args):
        """List closures."""
        return paginate(select(Closure).order_by(Closure.date, Closure.id), args, db.session)

    @roles_required("admin", "front_desk")
    @blp.arguments(ClosureSchema)
    @blp.response(201, ClosureSchema)
    def post(self, data):
        """Record a closure of the practice (or of one site)."""
        return svc.create_closure(data)


@blp.route("/closures/<int:closure_id>")
class ClosureItem(MethodView):
    @roles_required("admin", "front_desk")
    @blp.response(204)
    def delete(self, closure_id):
        """Delete a closure."""
        svc.delete_closure(svc.get_or_404(Closure, closure_id, "Closure"))
