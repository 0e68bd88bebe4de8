"""Build the per-app pluggy manager and load the configured plugins.

Plugins are found through the entry-point group ``practice.plugins``; only
the names in ``PRACTICE_PLUGINS`` are registered. An unknown name stops
start-up with the list of the available ones.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType

import pluggy
from flask import Flask, current_app

from . import hookspecs
from .errors import ConfigurationError

PROJECT = "practice"
ENTRY_POINT_GROUP = "practice.plugins"


@dataclass
class PluginState:
    manager: pluggy.PluginManager
    available: dict[str, str] = field(default_factory=dict)  # name -> module path
    enabled: dict[str, ModuleType] = field(default_factory=dict)


def available_plugins() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def make_plugin_manager(app: Flask, extra: dict[str, object] | None = None) -> PluginState:
    """Create the manager, register the core defaults and the enabled plugins."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    from . import core_plugin

    pm.register(core_plugin, name="core")
    state = PluginState(manager=pm, available=available_plugins())
    for name in app.config["PRACTICE_PLUGINS"]:
        if name not in state.available:
            names = ", ".join(sorted(state.available)) or "none"
            raise ConfigurationError(
                f"PRACTICE_PLUGINS names unknown plugin {name!r}; available plugins: {names}.")
        module = importlib.import_module(state.available[name])
        pm.register(module, name=name)
        state.enabled[name] = module
    for name, plugin in (extra or {}).items():
        pm.register(plugin, name=name)
        state.enabled[name] = plugin
    pm.check_pending()
    app.extensions["practice_plugins"] = state
    return state


def plugin_state(app: Flask | None = None) -> PluginState:
    return (app or current_app).extensions["practice_plugins"]


def hooks(app: Flask | None = None):
    return plugin_state(app).manager.hook


def describe_plugins(app: Flask) -> list[str]:
    """Human-readable lines for ``practice plugins``."""
    from importlib.metadata import PackageNotFoundError, version

    state = plugin_state(app)
    lines = []
    if not state.available:
        lines.append("No plugins available.")
    for name, target in sorted(state.available.items()):
        enabled = name in state.enabled
        module = state.enabled.get(name)
        ver = getattr(module, "__version__", None) if module else None
        if ver is None:
            try:
                ver = importlib.import_module(target).__dict__.get("__version__") or version("practice")
            except (ImportError, PackageNotFoundError):
                ver = "unknown"
        lines.append(f"{name} {ver} ({target}): {'enabled' if enabled else 'available, not enabled'}")
        if enabled:
            impls = sorted(h.name for h in state.manager.get_hookcallers(module) or [])
            lines.append("  hooks: " + (", ".join(impls) if impls else "none"))
    return lines
