"""Build the per-app pluggy manager and load the configured plugins.

Plugins are found through the entry-point group ``practice.plugins``; only
the names in ``PRACTICE_PLUGINS`` are registered. An unknown name stops
start-up with the list of the available ones.

Available plugins that are not enabled go into a second, *dormant* manager
that is asked only two things: its Alembic version directories (plugin
tables exist whether or not the plugin is on) and its read-only blueprints
(its data stays readable while it is off). Nothing else of theirs runs.
"""
from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType

import pluggy
from flask import Flask, current_app

from . import hookspecs
from .errors import ConfigurationError

PROJECT = "practice"
ENTRY_POINT_GROUP = "practice.plugins"

log = logging.getLogger(__name__)


@dataclass
class PluginState:
    manager: pluggy.PluginManager
    available: dict[str, str] = field(default_factory=dict)  # name -> module path
    enabled: dict[str, ModuleType] = field(default_factory=dict)
    # Available but not enabled: asked only for migrations and read-only routes.
    dormant: pluggy.PluginManager | None = None


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
    state.dormant = _dormant_manager(state)
    app.extensions["practice_plugins"] = state
    return state


def _dormant_manager(state: PluginState) -> pluggy.PluginManager:
    dormant = pluggy.PluginManager(PROJECT)
    dormant.add_hookspecs(hookspecs)
    for name, target in sorted(state.available.items()):
        if name in state.enabled:
            continue
        try:
            dormant.register(importlib.import_module(target), name=name)
        except ImportError as err:
            # A broken plugin nobody enabled must not stop the practice.
            log.warning("plugin %s (%s) cannot be imported: %s", name, target, err)
    return dormant


def configure_plugins(app: Flask) -> None:
    """Let each enabled plugin check its settings, then check the modalities
    they declare (a key declared twice stops start-up naming both plugins)."""
    from .services.modalities import enabled_modalities

    plugin_state(app).manager.hook.practice_configure(app=app)
    enabled_modalities(app)
    migrate = _migrate()
    if _alembic_version_dirs not in migrate.configure_callbacks:
        migrate.configure(_alembic_version_dirs)


def plugin_state(app: Flask | None = None) -> PluginState:
    return (app or current_app).extensions["practice_plugins"]


def hooks(app: Flask | None = None):
    return plugin_state(app).manager.hook


def plugin_blueprints(app: Flask) -> list:
    """Blueprints of the enabled plugins, and read-only ones of the others."""
    state = plugin_state(app)
    found = [bp for bps in state.manager.hook.practice_blueprints() for bp in bps or []]
    if state.dormant is not None:
        found += [bp for bps in state.dormant.hook.practice_readonly_blueprints()
                  for bp in bps or []]
    return found


def plugin_cli_commands(app: Flask) -> list:
    return [c for cmds in plugin_state(app).manager.hook.practice_cli_commands()
            for c in cmds or []]


def migration_dirs(app: Flask) -> list[str]:
    """Version directories of every available plugin, enabled or not."""
    state = plugin_state(app)
    dirs = [d for ds in state.manager.hook.practice_migration_dirs() for d in ds or []]
    if state.dormant is not None:
        dirs += [d for ds in state.dormant.hook.practice_migration_dirs() for d in ds or []]
    return sorted({os.path.abspath(d) for d in dirs if os.path.isdir(d)})


def _migrate():
    from .extensions import migrate

    return migrate


def _alembic_version_dirs(config):
    """Flask-Migrate configure callback: the core's versions plus the plugins'.

    It runs before Alembic builds its script directory (``env.py`` runs too
    late to add version locations). Each plugin branch starts on a core
    revision, so ``db upgrade`` (to ``head``) applies core and plugins alike.
    """
    core = os.path.abspath(os.path.join(config.get_main_option("script_location"), "versions"))
    dirs = [core, *(d for d in migration_dirs(current_app) if d != core)]
    config.set_main_option("path_separator", "os")
    # ConfigParser interpolates "%": a path holding one must be escaped.
    config.set_main_option("version_locations", os.pathsep.join(dirs).replace("%", "%%"))
    return config


def describe_plugins(app: Flask) -> list[str]:
    """Human-readable lines for ``practice plugins``."""
    from importlib.metadata import PackageNotFoundError, version

    state = plugin_state(app)
    lines = []
    if not state.available:
        lines.append("No plugins available.")
    extra = {n: None for n in state.enabled if n not in state.available}
    for name, target in sorted({**state.available, **extra}.items()):
        module = state.enabled.get(name)
        ver = getattr(module, "__version__", None) if module is not None else None
        if ver is None and target:
            try:
                ver = importlib.import_module(target).__dict__.get("__version__") \
                    or version("practice")
            except (ImportError, PackageNotFoundError):
                ver = "unknown"
        where = target or "registered in code"
        lines.append(f"{name} {ver or 'unknown'} ({where}): "
                     f"{'enabled' if module is not None else 'available, not enabled'}")
        if module is not None:
            impls = sorted(h.name for h in state.manager.get_hookcallers(module) or [])
            lines.append("  hooks: " + (", ".join(impls) if impls else "none"))
    return lines
