"""The sessions in a date range, for calendars (thin view)."""
from __future__ import annotations

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth import ANY_ROLE, current_api_user, roles_required
from ..services.sessions import calendar_sessions
from .course_schemas import CalendarSessionList, SessionRangeArgs

blp = Blueprint("sessions", __name__, url_prefix="/api",
                description="Sessions across courses, for calendars")


@blp.route("/sessions")
class Sessions(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(SessionRangeArgs, location="query")
    @blp.response(200, CalendarSessionList)
    def get(self, args):
        """Sessions on the local days ``from`` to ``to`` (both included, at most
        42 days), cancelled ones too; filter by clinician, room or site. A
        clinician gets only their own."""
        # The service builds JSON-ready items: sent as they are (a Response
        # passes flask-smorest's serialiser untouched), since dumping a
        # thousand of them through the schema cost more than the queries.
        return jsonify(calendar_sessions(current_api_user(), args))
