"""Interpersonal Psychotherapy (IPT): a first-party modality plugin.

Enable it with ``PRACTICE_PLUGINS=ipt``. It declares the modalities ``ipt``,
``ipt-a``, ``ipt-b``, ``ipt-g`` and ``ipt-m``; keeps the IPT contract
(renegotiated extensions, ``ended_early`` below the minimum, make-up
sessions); labels phases; owns the IPT intake; records PHQ-9 measures on
``/api/ipt/courses/<id>/measures``; raises the ``ipt.*`` flags; adds
``flask ipt flags``; and brings its table through its own Alembic branch.

The hook implementations live in ``hooks``; importing them here is what
registers them when the core registers this module.
"""
from .hooks import (practice_blueprints, practice_check_booking, practice_check_extension,
                    practice_check_reschedule, practice_cli_commands, practice_close_status,
                    practice_configure, practice_course_flags, practice_feed_event,
                    practice_intake_fields, practice_make_up_policy, practice_migration_dirs,
                    practice_modalities, practice_readonly_blueprints, practice_session_phase,
                    practice_validate_intake)

__version__ = "1.0.0"

__all__ = [
    "practice_blueprints", "practice_check_booking", "practice_check_extension",
    "practice_check_reschedule", "practice_cli_commands", "practice_close_status",
    "practice_configure", "practice_course_flags", "practice_feed_event",
    "practice_intake_fields", "practice_make_up_policy", "practice_migration_dirs",
    "practice_modalities", "practice_readonly_blueprints", "practice_session_phase",
    "practice_validate_intake",
]
