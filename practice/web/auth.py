"""Sign-in, sign-out and each role's start page."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from .. import login_limits
from ..audit import record
from ..auth import start_browser_session, verify_password
from ..extensions import db
from ..models import User
from .common import safe_next, start_page_for

bp = Blueprint("web_auth", __name__)


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("web_auth.sign_in"))
    return redirect(start_page_for(current_user))


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Email and password; back to the page asked for, or the role's start page.

    Failed sign-ins are limited as the API's are (``login_limits``: in the
    database, per account and address); over the limit the page answers 429
    with ``Retry-After`` and says when to try again."""
    target = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target or start_page_for(current_user))
    form = SignInForm()
    failed = False
    if form.validate_on_submit():
        wait = login_limits.retry_after(form.email.data)
        if wait:
            return (render_template("sign_in.html", form=form, next=target, failed=False,
                                    wait_message=login_limits.wait_message(wait)),
                    429, {"Retry-After": str(wait)})
        user = db.session.scalar(
            select(User).where(func.lower(User.email) == form.email.data.strip().lower()))
        if verify_password(user, form.password.data):
            start_browser_session(user)
            record("sign_in", "user", user.id, user_id=user.id, via="page",
                   address=login_limits.client_address())
            db.session.commit()
            return redirect(target or start_page_for(user))
        login_limits.note_failure(form.email.data)
        record("sign_in_failed", "user", user.id if user else None, via="page",
               address=login_limits.client_address())
        db.session.commit()
        failed = True
    status = 401 if failed else (422 if form.errors else 200)
    return render_template("sign_in.html", form=form, next=target, failed=failed), status


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("web_auth.sign_in"))
