"""``/api/users`` (admins only): list, create, change role, link to a
clinician, deactivate, reset a password. Thin views over
``services.accounts``; a password never leaves (nor enters the audit log).
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from ..auth import current_api_user, roles_required
from ..errors import Conflict, NotFound, RuleViolation, violation
from ..extensions import db
from ..models import MAX_ID, User
from ..models.auth import ROLES
from ..services import accounts
from .common import ListArgs, list_schema, paginate

blp = Blueprint("users", __name__, url_prefix="/api",
                description="User accounts (admins): roles, clinician links, deactivation "
                            "and password resets")


class UserSchema(Schema):
    id = fields.Int(dump_only=True)
    email = fields.Str(dump_only=True)
    role = fields.Str(dump_only=True)
    clinician_id = fields.Int(allow_none=True, dump_only=True)
    active = fields.Bool(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)


class UserCreateSchema(Schema):
    email = fields.Str(required=True, validate=validate.Length(min=3, max=254))
    role = fields.Str(required=True, validate=validate.OneOf(ROLES))
    password = fields.Str(required=True, load_only=True,
                          validate=validate.Length(min=accounts.MIN_PASSWORD, max=1024))
    clinician_id = fields.Int(allow_none=True, strict=True,
                              validate=validate.Range(min=1, max=MAX_ID),
                              metadata={"description": "required for the clinician role"})


class UserUpdateSchema(Schema):
    role = fields.Str(validate=validate.OneOf(ROLES))
    clinician_id = fields.Int(allow_none=True, strict=True,
                              validate=validate.Range(min=1, max=MAX_ID),
                              metadata={"description": "null unlinks"})
    active = fields.Bool(metadata={"description": "false deactivates: every token and "
                                                  "session of the user ends at once"})


class PasswordResetSchema(Schema):
    password = fields.Str(required=True, load_only=True,
                          validate=validate.Length(min=accounts.MIN_PASSWORD, max=1024))


class UserListArgs(ListArgs):
    role = fields.Str(validate=validate.OneOf(ROLES))
    active = fields.Bool()


UserList = list_schema(UserSchema, "UserList")


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    return user


def _refuse(err: accounts.AccountError):
    if isinstance(err, accounts.AccountConflict):
        db.session.rollback()
        raise Conflict(str(err), conflicts=[{"field": err.field}]) from None
    db.session.rollback()
    raise RuleViolation([violation("account", str(err), field=err.field)]) from None


@blp.route("/users")
class Users(MethodView):
    @roles_required("admin")
    @blp.arguments(UserListArgs, location="query")
    @blp.response(200, UserList)
    def get(self, args):
        """Every user account (admins), by id; filter by role or active."""
        q = select(User)
        if "role" in args:
            q = q.where(User.role == args["role"])
        if "active" in args:
            q = q.where(User.active == args["active"])
        return paginate(q.order_by(User.id), args, db.session)

    @roles_required("admin")
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create an account (a clinician's names its clinician); 409 when the
        email is taken."""
        try:
            return accounts.create_user(data["email"], data["role"], data["password"],
                                        clinician_id=data.get("clinician_id"))
        except accounts.AccountError as err:
            _refuse(err)


@blp.route("/users/<int:user_id>")
class UserItem(MethodView):
    @roles_required("admin")
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """One account."""
        return _user(user_id)

    @roles_required("admin")
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Change the role, the clinician link (null unlinks) or deactivate
        (``active: false``: every token and session ends at once). An admin
        cannot demote or deactivate themselves."""
        user = _user(user_id)
        try:
            return accounts.update_user(user, data, acting=current_api_user())
        except accounts.AccountError as err:
            _refuse(err)


@blp.route("/users/<int:user_id>/password")
class UserPassword(MethodView):
    @roles_required("admin")
    @blp.arguments(PasswordResetSchema)
    @blp.response(204)
    def post(self, data, user_id):
        """Set a new password (at least 8 characters); every token and
        session of the user ends at once."""
        try:
            accounts.reset_password(_user(user_id), data["password"])
        except accounts.AccountError as err:
            _refuse(err)
