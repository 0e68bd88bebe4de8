"""Sign-in, sign-out and each role's start page."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ..auth import verify_password
from ..extensions import db, limiter
from ..models import User
from .common import safe_next, start_page_for

bp = Blueprint("web_auth", __name__)


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})


def _sign_in_key() -> str:
    """Failed page sign-ins are counted per address and email, as the API's."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"{request.remote_addr}|{email}"


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("web_auth.sign_in"))
    return redirect(start_page_for(current_user))


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_sign_in_key,
               methods=["POST"], deduct_when=lambda resp: resp.status_code == 401)
def sign_in():
    """Email and password; back to the page asked for, or the role's start page."""
    target = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target or start_page_for(current_user))
    form = SignInForm()
    failed = False
    if form.validate_on_submit():
        user = db.session.scalar(
            select(User).where(func.lower(User.email) == form.email.data.strip().lower()))
        if verify_password(user, form.password.data):
            login_user(user)
            return redirect(target or start_page_for(user))
        failed = True
    status = 401 if failed else (422 if form.errors else 200)
    return render_template("sign_in.html", form=form, next=target, failed=failed), status


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("web_auth.sign_in"))
