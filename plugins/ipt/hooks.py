"""The IPT plugin's hook implementations: thin adapters from the core's hooks
(``practice.hookspecs``) to the rules, intake, phases and flags modules."""
from __future__ import annotations

from datetime import date

from flask import Flask

from practice.hookspecs import hookimpl

from . import flags, intake, phases, rules
from .settings import EXTENSION_KEY, load_settings, settings


@hookimpl
def practice_configure(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = load_settings(app)


@hookimpl
def practice_modalities():
    return rules.modalities(settings())


@hookimpl
def practice_blueprints():
    from .api import blp

    return [blp]


@hookimpl
def practice_readonly_blueprints():
    from .api import readonly_blp

    return [readonly_blp]


@hookimpl
def practice_cli_commands():
    from .cli import ipt_cli

    return [ipt_cli]


@hookimpl
def practice_migration_dirs():
    from pathlib import Path

    return [str(Path(__file__).resolve().parent / "migrations" / "versions")]


@hookimpl
def practice_check_booking(draft, modality):
    return rules.check_booking(draft, modality)


@hookimpl
def practice_check_extension(course, modality, added, new_total, reason):
    return rules.check_extension(course, modality, added, new_total, reason)


@hookimpl
def practice_check_reschedule(course, session, changes, scope):
    return rules.check_reschedule(course, session, changes, scope)


@hookimpl
def practice_make_up_policy(course, session, event, requested):
    return rules.make_up_policy(course, session, requested, settings())


@hookimpl
def practice_close_status(course, attended, outcome):
    from practice.services.modalities import enabled_modalities

    return rules.close_status(course, enabled_modalities())


@hookimpl
def practice_session_phase(course, number, total):
    s = settings()
    return phases.session_phase(course, number, total, s.termination_sessions,
                                s.brief_initial_sessions)


@hookimpl
def practice_course_flags(course, today: date):
    return flags.course_flags(course, today, settings())


@hookimpl
def practice_intake_fields(modality):
    return list(intake.FIELDS) if modality in rules.KEYS else None


@hookimpl
def practice_validate_intake(modality, data):
    return intake.validate(data) if modality in rules.KEYS else None


@hookimpl
def practice_feed_event(event, session, course, privacy, phase):
    """With ``full`` privacy only: "session k of N (phase)", nothing clinical
    (no problem area, no measures, not even the modality's name)."""
    if privacy != "full" or course.modality not in rules.KEYS or session.cancelled:
        return None
    numbers = [s.number for s in rules.live_sessions(course)]
    if session.number not in numbers:
        return None
    caption = phases.session_caption(course, numbers.index(session.number) + 1, phase)
    summary = event.get("SUMMARY") or "Session"
    # Never the modality's name: the core drops a text that names one, since
    # it can reveal a client's condition in a calendar outside the practice.
    return {"SUMMARY": f"{summary} \u2013 {caption}"}
