"""Feed links: ``/api/clinicians/<id>/feed`` and ``/api/rooms/<id>/feed``.

POST creates or rotates the link (the old one stops working at once) and
answers the URL, once; DELETE revokes it; GET says whether one is live.
Who may: a clinician manages their own feed, admins any; front desk and
admins manage room feeds (rooms are the front desk's daily work, and a room
feed shows no more than the front desk already sees).
"""
from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..auth import current_api_user, roles_required
from ..errors import NotFound
from ..models import Clinician, Room
from ..models.feeds import PRIVACY_LEVELS
from ..services import feeds as svc
from ..services.directory import get_or_404

blp = Blueprint("feeds_api", __name__, url_prefix="/api",
                description="Calendar feed links for clinicians and rooms")


class FeedLinkRequestSchema(Schema):
    privacy = fields.Str(
        load_default="initials", validate=validate.OneOf(PRIVACY_LEVELS),
        metadata={"description": "busy: only 'Busy'; initials: clients' initials "
                                 "(groups: the course label); full: clients' names"})


class FeedLinkSchema(Schema):
    url = fields.Str(required=True, metadata={"description": "https link, shown once"})
    webcal_url = fields.Str(required=True,
                            metadata={"description": "the same link for calendar apps"})
    privacy = fields.Str(required=True)
    created_at = fields.DateTime(required=True)
    warning = fields.Str(allow_none=True, metadata={
        "description": "set for 'full' privacy: the link exposes clients' names"})


class FeedStatusSchema(Schema):
    active = fields.Bool(required=True)
    privacy = fields.Str(allow_none=True)
    created_at = fields.DateTime(allow_none=True)
    last_fetched_at = fields.DateTime(allow_none=True)


def _clinician_for_feed(clinician_id: int) -> Clinician:
    user = current_api_user()
    if user.role == "clinician" and user.clinician_id != clinician_id:
        # Other clinicians' records are invisible to a clinician: 404, not 403.
        raise NotFound(f"Clinician {clinician_id} does not exist.")
    return get_or_404(Clinician, clinician_id, "Clinician")


def _link(issued: svc.IssuedFeed) -> dict:
    base = current_app.config.get("PRACTICE_BASE_URL") or request.host_url
    url = f"{base.rstrip('/')}/feeds/{issued.token}.ics"
    webcal = "webcal://" + url.split("://", 1)[1]
    return {"url": url, "webcal_url": webcal, "privacy": issued.row.privacy,
            "created_at": issued.row.created_at, "warning": issued.warning}


def _status(owner: Clinician | Room) -> dict:
    row = svc.live_feed(owner)
    if row is None:
        return {"active": False, "privacy": None, "created_at": None, "last_fetched_at": None}
    return {"active": True, "privacy": row.privacy, "created_at": row.created_at,
            "last_fetched_at": svc.last_fetched_at(row)}


@blp.route("/clinicians/<int:clinician_id>/feed")
class ClinicianFeed(MethodView):
    @roles_required("admin", "clinician")
    @blp.response(200, FeedStatusSchema)
    def get(self, clinician_id):
        """Whether the clinician has a live feed link (the URL is shown only once)."""
        return _status(_clinician_for_feed(clinician_id))

    @roles_required("admin", "clinician")
    @blp.arguments(FeedLinkRequestSchema)
    @blp.response(201, FeedLinkSchema)
    def post(self, data, clinician_id):
        """Create or rotate the clinician's feed link; any previous link stops working."""
        owner = _clinician_for_feed(clinician_id)
        return _link(svc.issue_feed(owner, data["privacy"], current_api_user().id))

    @roles_required("admin", "clinician")
    @blp.response(204)
    def delete(self, clinician_id):
        """Revoke the clinician's feed link."""
        svc.revoke_feed(_clinician_for_feed(clinician_id))


@blp.route("/rooms/<int:room_id>/feed")
class RoomFeed(MethodView):
    @roles_required("admin", "front_desk")
    @blp.response(200, FeedStatusSchema)
    def get(self, room_id):
        """Whether the room has a live feed link (the URL is shown only once)."""
        return _status(get_or_404(Room, room_id, "Room"))

    @roles_required("admin", "front_desk")
    @blp.arguments(FeedLinkRequestSchema)
    @blp.response(201, FeedLinkSchema)
    def post(self, data, room_id):
        """Create or rotate the room's feed link; any previous link stops working."""
        owner = get_or_404(Room, room_id, "Room")
        return _link(svc.issue_feed(owner, data["privacy"], current_api_user().id))

    @roles_required("admin", "front_desk")
    @blp.response(204)
    def delete(self, room_id):
        """Revoke the room's feed link."""
        svc.revoke_feed(get_or_404(Room, room_id, "Room"))
