"""``flask --app wsgi ipt flags``: refresh and list the open IPT flags.

Lines name course ids, codes, severities and due dates, never clients.
Flags meant for the treating clinician only (a safety review) are listed
only with ``--clinician-id`` of that clinician; otherwise they are counted.
"""
from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup
from sqlalchemy import select

from practice.extensions import db
from practice.models import Course
from practice.services.flags import practice_today, refresh_course_flags

from .rules import KEYS, PLUGIN

ipt_cli = AppGroup("ipt", help="Interpersonal Psychotherapy (IPT) plugin commands.")


@ipt_cli.command("flags")
@click.option("--today", "today", default=None, metavar="YYYY-MM-DD",
              help="Judge due and overdue by this date (default: today in the practice).")
@click.option("--clinician-id", type=int, default=None,
              help="Only this clinician's courses, including flags for them alone.")
def flags_cmd(today: str | None, clinician_id: int | None) -> None:
    """Refresh the flags of every IPT course, then list the open ones."""
    try:
        day = date.fromisoformat(today) if today else practice_today()
    except ValueError as err:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--today") from err
    q = select(Course).where(Course.modality.in_(KEYS)).order_by(Course.id)
    if clinician_id is not None:
        q = q.where(Course.clinician_id == clinician_id)
    courses = db.session.scalars(q).all()
    for course in courses:
        refresh_course_flags(course, day)
    db.session.commit()
    shown = hidden = 0
    for course in courses:
        for f in course.flags:
            if f.closed_at is not None or f.plugin != PLUGIN:
                continue
            if f.audience == "clinician" and clinician_id is None:
                hidden += 1
                continue
            due = f.due_date.isoformat() if f.due_date else "-"
            click.echo(f"course {course.id}\t{f.severity}\t{f.code}\tdue {due}\t{f.message}")
            shown += 1
    click.echo(f"{shown} open IPT flag(s) on {len(courses)} IPT course(s), as of "
               f"{day.isoformat()}.")
    if hidden:
        click.echo(f"{hidden} more for the treating clinician only: use --clinician-id.")
