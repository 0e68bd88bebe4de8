"""The core's own defaults, registered as the plugin named ``core``.

They are ``trylast`` hookimpls, so any plugin's answer wins without special
cases in the core.
"""
from __future__ import annotations

from .contributions import Modality
from .hookspecs import hookimpl

GENERAL = Modality(key="general", label="General therapy", min_sessions=1, max_sessions=104,
                   default_sessions=12, default_interval_weeks=1, min_duration=10,
                   max_duration=240, default_duration=50, min_clients=1, max_clients=None,
                   description="No modality plugin applies.", plugin="core")


@hookimpl(trylast=True)
def practice_modalities():
    return [GENERAL]


@hookimpl(trylast=True)
def practice_make_up_policy(course, session, event, requested):
    return bool(requested)


@hookimpl(trylast=True)
def practice_close_status(course, attended, outcome):
    if outcome is None:  # the last session was attended: the series ran its course
        return "completed"
    remaining = [s for s in course.sessions if s.status == "scheduled"]
    return "ended_early" if remaining else "completed"
