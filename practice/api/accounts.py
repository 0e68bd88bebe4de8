"""Bearer tokens (with the sign-in limit) and the audit log."""
from __future__ import annotations

from flask import abort, g, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import delete, func, select

from .. import login_limits
from ..audit import audit_refusal, record
from ..auth import ANY_ROLE, current_api_user, issue_token, roles_required, verify_password
from ..errors import BadRequest, Unauthorized
from ..extensions import db
from ..models import ApiToken, AuditEntry, User
from .common import ErrorSchema, paginate
from .schemas import AuditArgs, AuditList, TokenRequestSchema, TokenSchema

blp = Blueprint("accounts", __name__, url_prefix="/api", description="Tokens and audit log")


def too_many_attempts(seconds: int):
    """Leave now with a JSON 429 and ``Retry-After`` (seconds)."""
    resp = jsonify({"error": "too_many_requests", "message": login_limits.wait_message(seconds),
                    "retry_after": seconds})
    resp.status_code = 429
    resp.headers["Retry-After"] = str(seconds)
    abort(resp)


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(429, schema=ErrorSchema, description=(
        "5 failed sign-ins for this account from this address in 15 minutes: wait "
        "`Retry-After` seconds (until the oldest counted failure is 15 minutes old). "
        "Another address is not affected."))
    @blp.doc(security=[])  # this is where a token comes from: none needed
    def post(self, data):
        """Exchange email and password for a bearer token (failed sign-ins are
        limited per account and address, in the database)."""
        wait = login_limits.retry_after(data["email"])
        if wait:
            too_many_attempts(wait)
        user = db.session.scalar(
            select(User).where(func.lower(User.email) == data["email"].strip().lower()))
        if not verify_password(user, data["password"]):
            login_limits.note_failure(data["email"])
            record("sign_in_failed", "user", user.id if user else None, via="api",
                   address=login_limits.client_address())
            db.session.commit()
            raise Unauthorized("Unknown email or wrong password.")
        plain, row = issue_token(user)
        db.session.flush()
        record("sign_in", "user", user.id, user_id=user.id, via="api", token_id=row.id,
               address=login_limits.client_address())
        db.session.commit()
        return {"token": plain, "expires_at": row.expires_at}


@blp.route("/tokens/current")
class CurrentToken(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.response(204)
    def delete(self):
        """Revoke the bearer token this request carries (sign out an API
        client); it stops working at once."""
        user = current_api_user()
        token_id = getattr(g, "api_token_id", None)
        if token_id is None:
            raise BadRequest("Only a bearer token can be revoked here: send it in "
                             "'Authorization: Bearer'.")
        db.session.execute(delete(ApiToken).where(ApiToken.id == token_id))
        record("revoke", "api_token", token_id, owner_id=user.id)
        db.session.commit()


@blp.after_app_request
def _audit_refusals(response):
    """403 and 404 on an object (another clinician's, or none) leave a row."""
    if response.status_code in (403, 404):
        audit_refusal(response.status_code)
    return response


@blp.route("/audit")
class Audit(MethodView):
    @roles_required("admin")
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, AuditList)
    def get(self, args):
        """Read the audit log (admin), newest first, filtered by object or user."""
        q = select(AuditEntry)
        for key in ("object_type", "object_id", "user_id", "action"):
            if args.get(key) is not None:
                q = q.where(getattr(AuditEntry, key) == args[key])
        return paginate(q.order_by(AuditEntry.id.desc()), args, db.session)
