"""Bearer tokens and the audit log."""
from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func, select

from ..auth import issue_token, roles_required, verify_password
from ..errors import Unauthorized
from ..extensions import db, limiter
from ..models import AuditEntry, User
from .common import paginate
from .schemas import AuditArgs, AuditList, TokenRequestSchema, TokenSchema

blp = Blueprint("accounts", __name__, url_prefix="/api", description="Tokens and audit log")


def _login_key() -> str:
    """Failed attempts are counted per address and email."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    email = email.strip().lower()[:254] if isinstance(email, str) else ""
    return f"{request.remote_addr}|{email}"


@blp.route("/tokens")
class Tokens(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"],
                                key_func=_login_key,
                                deduct_when=lambda resp: resp.status_code == 401)]

    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    @blp.doc(security=[])  # this is where a token comes from: none needed
    def post(self, data):
        """Exchange email and password for a bearer token."""
        user = db.session.scalar(
            select(User).where(func.lower(User.email) == data["email"].strip().lower()))
        if not verify_password(user, data["password"]):
            raise Unauthorized("Unknown email or wrong password.")
        plain, row = issue_token(user)
        db.session.commit()
        return {"token": plain, "expires_at": row.expires_at}


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
