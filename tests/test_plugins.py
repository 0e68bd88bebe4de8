"""The plugin machinery: discovery through entry points, enabling by
configuration, start-up errors, the ``practice plugins`` command, the
migration branches, and the documentation of every hook."""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pluggy
import pytest

from practice import create_app
from practice.errors import ConfigurationError
from practice.extensions import db, migrate
from practice.hookspecs import hookimpl
from practice.plugin_manager import available_plugins, plugin_state

ROOT = Path(__file__).resolve().parent.parent


def hookspec_signatures() -> dict[str, str]:
    """name -> "name(args) -> returns", read from practice/hookspecs.py."""
    tree = ast.parse((ROOT / "practice" / "hookspecs.py").read_text())
    return {node.name: f"{node.name}({ast.unparse(node.args)}) -> {ast.unparse(node.returns)}"
            for node in tree.body if isinstance(node, ast.FunctionDef)
            and any("hookspec" in ast.unparse(d) for d in node.decorator_list)}


def test_every_hook_is_in_the_readme_with_its_exact_signature():
    readme = (ROOT / "README.md").read_text()
    guide = readme[readme.index("## Plugin author's guide"):]
    specs = hookspec_signatures()
    assert len(specs) >= 17
    missing = [sig for sig in specs.values() if sig not in guide]
    assert missing == [], "README's plugin guide lacks these signatures"


def test_every_hook_has_a_test_named_for_it():
    sources = "".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    missing = [name for name in hookspec_signatures()
               if not re.search(rf"def test_hook_{name}\b", sources)]
    assert missing == []


def test_ipt_is_found_through_its_entry_point():
    assert available_plugins()["ipt"] == "plugins.ipt"


def test_no_plugin_enabled_by_default(app):
    state = plugin_state(app)
    assert state.enabled == {}
    assert [p.__name__ for p in state.manager.get_plugins()] == ["practice.core_plugin"]


def test_unknown_plugin_stops_start_up_naming_the_available_ones(app_config):
    with pytest.raises(ConfigurationError) as err:
        create_app({**app_config, "PRACTICE_PLUGINS": "nope"})
    assert "'nope'" in str(err.value) and "available plugins: ipt" in str(err.value)


def test_unknown_plugin_in_the_environment_fails_the_command_line(tmp_path):
    env = {**os.environ, "PRACTICE_PLUGINS": "ipt, nope", "SECRET_KEY": "x",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    done = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi",
                           "practice", "plugins"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    assert "unknown plugin 'nope'" in done.stderr and "ipt" in done.stderr


def test_misspelled_hookimpl_stops_start_up(app_config):
    class Typo:
        @hookimpl
        def practice_modalites(self):  # sic
            return []

    with pytest.raises(pluggy.PluginValidationError, match="practice_modalites"):
        create_app({**app_config, "PRACTICE_EXTRA_PLUGINS": {"typo": Typo()}})


def test_practice_plugins_command_lists_versions_and_hooks(app_config, runner):
    out = runner.invoke(args=["practice", "plugins"]).output
    assert out.startswith("ipt 1.0.0 (plugins.ipt): available, not enabled\n")
    on = create_app({**app_config, "PRACTICE_PLUGINS": "ipt"})
    out = on.test_cli_runner().invoke(args=["practice", "plugins"]).output
    lines = out.splitlines()
    assert lines[0] == "ipt 1.0.0 (plugins.ipt): enabled"
    assert lines[1].startswith("  hooks: practice_blueprints, practice_check_booking")
    assert "practice_course_flags" in lines[1] and "practice_feed_event" in lines[1]


def test_core_serves_without_plugins(admin_api):
    keys = [m["key"] for m in admin_api.get("/api/modalities").json["items"]]
    assert keys == ["general"]
    assert admin_api.get("/api/flags").json == {"items": [], "total": 0}


def test_migrations_have_one_head(app):
    """Core and plugin branches share one head, so ``flask db upgrade`` works
    without a revision. If this fails after a new core revision, add a merge
    revision to each plugin branch (see the README's plugin guide)."""
    from alembic.script import ScriptDirectory

    with app.app_context():
        config = migrate.get_config()
        script = ScriptDirectory.from_config(config)
        assert len(script.get_heads()) == 1, script.get_heads()
        assert script.get_revision("ipt@head").revision in script.get_heads()
        # The database the tests run on was built by that one upgrade.
        with db.engine.connect() as conn:
            from alembic.runtime.migration import MigrationContext

            assert set(MigrationContext.configure(conn).get_current_heads()) == \
                set(script.get_heads())


def test_flask_db_upgrade_applies_core_and_ipt_branches(tmp_path):
    env = {**os.environ, "PRACTICE_PLUGINS": "", "SECRET_KEY": "x",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    flask = str(Path(sys.executable).parent / "flask")
    done = subprocess.run([flask, "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "-> ipt_0001" in done.stderr
    again = subprocess.run([flask, "--app", "wsgi", "db", "current"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=180)
    assert "(head)" in again.stdout
