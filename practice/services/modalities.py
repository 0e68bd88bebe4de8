"""The enabled modalities and the plugin checks, gathered from the hooks.

``run_checks`` calls one check hook on every plugin and sorts the answers
into violations (refuse with 422) and warnings (reported with success),
naming the plugin that gave each.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context

from ..contributions import Modality, Verdict
from ..errors import ConfigurationError, RuleViolation, violation
from ..plugin_manager import plugin_state


def enabled_modalities(app=None) -> dict[str, Modality]:
    """Key -> Modality for every enabled plugin (cached per app)."""
    app = app or current_app._get_current_object()
    cache = app.extensions.setdefault("practice_modalities", {})
    if "all" in cache:
        return cache["all"]
    if not has_app_context():
        # Plugins read their settings from ``current_app`` (start-up check).
        with app.app_context():
            return enabled_modalities(app)
    pm = plugin_state(app).manager
    found: dict[str, Modality] = {}
    for impl in reversed(pm.hook.practice_modalities.get_hookimpls()):
        plugin_name = pm.get_name(impl.plugin)
        for m in impl.function() or []:
            if m.key in found:
                raise ConfigurationError(
                    f"Modality {m.key!r} is declared by both {found[m.key].plugin!r} "
                    f"and {plugin_name!r}.")
            found[m.key] = Modality(**{**m.__dict__, "plugin": plugin_name})
    cache["all"] = found
    return found


def get_modality(key: str) -> Modality:
    """The enabled modality ``key``, or a 422 naming the enabled ones."""
    mods = enabled_modalities()
    if key not in mods:
        raise RuleViolation([violation(
            "modality.unknown",
            f"Modality {key!r} is not enabled here; enabled: {', '.join(sorted(mods))}.",
            field="modality")])
    return mods[key]


def run_checks(hook_name: str, **kwargs) -> tuple[list[dict], list[dict]]:
    """Call a check hook on all plugins; return (violations, warnings) as dicts."""
    pm = plugin_state().manager
    hook = getattr(pm.hook, hook_name)
    violations: list[dict] = []
    warnings: list[dict] = []
    for impl in reversed(hook.get_hookimpls()):
        plugin_name = pm.get_name(impl.plugin)
        args = {k: kwargs[k] for k in impl.argnames}
        for verdict in impl.function(**args) or []:
            if not isinstance(verdict, Verdict):
                raise TypeError(f"plugin {plugin_name!r} returned {verdict!r} from {hook_name}")
            d = verdict.to_dict()
            d["plugin"] = verdict.plugin or plugin_name
            (violations if verdict.kind == "violation" else warnings).append(d)
    return violations, warnings


def first_result(hook_name: str, **kwargs) -> tuple[str | None, Any]:
    """Call a ``firstresult`` hook the way pluggy does, but also say which
    plugin answered: ``(plugin name, result)``, or ``(None, None)``."""
    pm = plugin_state().manager
    for impl in reversed(getattr(pm.hook, hook_name).get_hookimpls()):
        result = impl.function(**{k: kwargs[k] for k in impl.argnames})
        if result is not None:
            return pm.get_name(impl.plugin), result
    return None, None


def core_bounds_violations(modality: Modality, *, session_count: int | None = None,
                           interval_weeks: int | None = None,
                           duration_minutes: int | None = None,
                           client_count: int | None = None) -> list[dict]:
    """Check a request against a modality's declared bounds.

    Rules are named ``<plugin>.<bound>`` (``ipt.session_count``...), and
    attributed to the plugin that declared the modality.
    """
    p = modality.plugin or "core"
    prefix = "course" if p == "core" else p
    out = []
    if session_count is not None and not (modality.min_sessions <= session_count
                                          <= modality.max_sessions):
        out.append(violation(f"{prefix}.session_count",
                             f"{modality.label} has {modality.min_sessions}"
                             f"–{modality.max_sessions} sessions, not {session_count}.",
                             field="session_count", plugin=p if p != "core" else None))
    if interval_weeks is not None and modality.allowed_intervals and \
            interval_weeks not in modality.allowed_intervals:
        allowed = ", ".join(str(i) for i in modality.allowed_intervals)
        out.append(violation(f"{prefix}.interval",
                             f"{modality.label} meets every {allowed} week(s), not every "
                             f"{interval_weeks}.", field="interval_weeks",
                             plugin=p if p != "core" else None))
    if duration_minutes is not None and not (modality.min_duration <= duration_minutes
                                             <= modality.max_duration):
        out.append(violation(f"{prefix}.duration",
                             f"{modality.label} sessions last {modality.min_duration}"
                             f"–{modality.max_duration} minutes, not {duration_minutes}.",
                             field="duration_minutes", plugin=p if p != "core" else None))
    if client_count is not None:
        if client_count < modality.min_clients:
            out.append(violation(f"{prefix}.clients",
                                 f"{modality.label} needs at least {modality.min_clients} "
                                 "clients.", field="client_ids",
                                 plugin=p if p != "core" else None))
        if modality.max_clients is not None and client_count > modality.max_clients:
            out.append(violation(f"{prefix}.clients",
                                 f"{modality.label} takes at most {modality.max_clients} "
                                 "clients.", field="client_ids",
                                 plugin=p if p != "core" else None))
    return out
