"""Every hook a plugin may implement (pluggy project ``practice``).

Conventions:
- Hooks return data (the dataclasses in ``practice.contributions``, lists of
  them, or plain dicts); the core aggregates and applies it. A hook never
  writes to the database or changes the objects it is given.
- Objects passed in (courses, sessions) are read-only views for the hook.
- ``firstresult`` hooks stop at the first non-None result; plugins registered
  later are called first, so a plugin overrides the core's ``trylast`` default.
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    import click
    from flask import Blueprint, Flask

    from .contributions import BookingDraft, FlagSpec, IntakeField, Modality, Verdict
    from .models import Course, TherapySession

hookspec = pluggy.HookspecMarker("practice")
hookimpl = pluggy.HookimplMarker("practice")


# --------------------------------------------------------------------------
# Set-up: configuration, modalities, routes, commands, migrations
# --------------------------------------------------------------------------
@hookspec
def practice_configure(app: Flask) -> None:
    """Called once in ``create_app`` after the plugin is registered.

    :param app: the Flask app; read ``app.config`` and raise
        ``practice.errors.ConfigurationError`` for invalid plugin settings.
    :return: nothing. Keep per-app state in ``app.extensions``, never globally.
    """


@hookspec
def practice_modalities() -> list[Modality]:
    """Called when the enabled modalities are collected (at start-up, and by
    ``GET /api/modalities``).

    :return: the ``Modality`` contributions this plugin declares. Keys must
        be unique across plugins; the core names the plugin on a clash.
    """


@hookspec
def practice_blueprints() -> list[Blueprint]:
    """Called once in ``create_app``.

    :return: Flask (or flask-smorest) blueprints to register: the plugin's
        API routes and views. flask-smorest blueprints also appear in the
        OpenAPI document.
    """


@hookspec
def practice_readonly_blueprints() -> list[Blueprint]:
    """Called once in ``create_app`` for every *available* plugin that is
    **not** enabled (and never for an enabled one).

    :return: blueprints that keep the plugin's own data readable while it is
        disabled (disabling loses nothing): read-only routes, no writes, and
        blueprint names different from those of ``practice_blueprints``.
    """


@hookspec
def practice_cli_commands() -> list[click.Command]:
    """Called once in ``create_app``.

    :return: click commands or groups added to ``flask --app wsgi``.
    """


@hookspec
def practice_migration_dirs() -> list[str]:
    """Called when Alembic is configured (``flask db ...``), for every
    *available* plugin, enabled or not.

    :return: absolute paths of Alembic version directories holding the
        plugin's own branch. Plugin tables exist whether or not the plugin
        is enabled, so disabling it loses no data. The branch's first
        revision sits on a core revision (``down_revision``) and carries the
        plugin's name in ``branch_labels``, so ``flask db upgrade`` applies
        core and plugins to one head.
    """


# --------------------------------------------------------------------------
# Checks: veto (violation -> 422) or warn (reported with success)
# --------------------------------------------------------------------------
@hookspec
def practice_check_booking(draft: BookingDraft, modality: Modality) -> list[Verdict]:
    """Called before a course is booked or previewed, after the core's own
    checks of the request shape.

    :param draft: the would-be course and its expanded sessions.
    :param modality: the modality the booking asks for.
    :return: verdicts; any violation refuses the booking with 422.
    """


@hookspec
def practice_check_extension(course: Course, modality: Modality, added: int,
                             new_total: int, reason: str | None) -> list[Verdict]:
    """Called before ``POST /api/courses/<id>/extend`` adds sessions.

    :param course: the course as it is now.
    :param modality: its modality.
    :param added: how many sessions would be added.
    :param new_total: planned sessions after the extension.
    :param reason: the reason given, or None.
    :return: verdicts; any violation refuses the extension with 422.
    """


@hookspec
def practice_check_reschedule(course: Course, session: TherapySession,
                              changes: list[dict], scope: str) -> list[Verdict]:
    """Called before sessions are moved.

    :param course: the course.
    :param session: the session the request names.
    :param changes: one dict per moved session: ``number``, ``starts_at``,
        ``ends_at``, ``room_id`` (the new values).
    :param scope: ``this`` or ``following``.
    :return: verdicts; any violation refuses the move with 422.
    """


@hookspec
def practice_check_cancellation(course: Course, session: TherapySession, by: str,
                                reason: str | None) -> list[Verdict]:
    """Called before a session is cancelled.

    :param by: ``client`` or ``practice``.
    :return: verdicts; any violation refuses the cancellation with 422.
    """


@hookspec
def practice_check_attendance(course: Course, session: TherapySession,
                              status: str) -> list[Verdict]:
    """Called before attendance (``attended`` | ``no_show``) is recorded.

    :return: verdicts; any violation refuses with 422.
    """


# --------------------------------------------------------------------------
# Course rules: make-ups, outcome, phases
# --------------------------------------------------------------------------
@hookspec(firstresult=True)
def practice_make_up_policy(course: Course, session: TherapySession, event: str,
                            requested: bool | None) -> bool | None:
    """Called when a session is cancelled (``event="cancel"``) or marked
    ``no_show`` (``event="no_show"``), to decide whether a make-up session is
    appended at the end of the series.

    :param requested: the request's ``make_up`` value, or None if absent.
    :return: True to append, False not to; stops at first non-None result.
        The core's default (trylast) appends only when ``requested`` is True.
    """


@hookspec(firstresult=True)
def practice_close_status(course: Course, attended: int, outcome: str | None) -> str | None:
    """Called when a course is closed with ``POST /api/courses/<id>/close``,
    and when its last non-cancelled session is attended (the course ends).

    :param attended: sessions delivered (attended) so far.
    :param outcome: the outcome the request gives; None when the course
        ends because its last session was attended.
    :return: the new status, ``completed`` or ``ended_early``; stops at first
        non-None result. The core's default: ``completed`` when no scheduled
        session remains, else ``ended_early``.
    """


@hookspec(firstresult=True)
def practice_session_phase(course: Course, number: int, total: int) -> str | None:
    """Called when sessions are shown (API, feeds with ``full`` privacy).

    :param number: the session's position among the course's delivered or
        scheduled (not cancelled) sessions, in time order, 1-based: a make-up
        session takes the place of the one it makes up.
    :param total: the number of sessions the course plans (``planned_sessions``,
        raised by extensions).
    :return: a short phase label (``initial``, ``middle`` ...) or None;
        stops at first non-None result.
    """


@hookspec
def practice_course_flags(course: Course, today: date) -> list[FlagSpec]:
    """Called whenever a course changes and when flags are refreshed
    (``GET /api/flags``, ``flask ipt flags``).

    :param course: the course with its sessions and modality data.
    :param today: the practice-local date to judge "due" and "overdue" by.
    :return: the flags that should be open now. The core raises new ones
        once, updates severity/message/due date, and closes the ones no
        longer returned (for this plugin only).
    """


# --------------------------------------------------------------------------
# Intake
# --------------------------------------------------------------------------
@hookspec(firstresult=True)
def practice_intake_fields(modality: str) -> list[IntakeField] | None:
    """Called to describe a modality's intake form.

    :param modality: a modality key.
    :return: the fields, or None if this plugin does not own the modality;
        stops at first non-None result.
    """


@hookspec(firstresult=True)
def practice_validate_intake(modality: str, data: dict[str, Any]) -> tuple[dict, list[Verdict]] | None:
    """Called on ``PUT /api/courses/<id>/intake``.

    :param modality: the course's modality key.
    :param data: the JSON body as sent.
    :return: ``(clean_data, violations)``, one violation per failing field
        (any violation refuses with 422); None if this plugin does not own the
        modality. Stops at first non-None result.
    """


# --------------------------------------------------------------------------
# Feeds
# --------------------------------------------------------------------------
@hookspec
def practice_feed_event(event: dict[str, str], session: TherapySession, course: Course,
                        privacy: str, phase: str | None) -> dict[str, str] | None:
    """Called for each event of an iCalendar feed, after the core built it.

    :param event: a copy of the event's text properties (``SUMMARY``,
        ``DESCRIPTION``...); changing it changes nothing.
    :param privacy: ``busy``, ``initials`` or ``full``.
    :param phase: the session's phase label, if any.
    :return: properties to set (only ``SUMMARY`` and ``DESCRIPTION`` are
        accepted), or None. The feed leaves the practice: never return
        problem areas, measures or anything clinical.
    """
