"""``flask --app wsgi practice ...``: accounts, demo data, backups, plugins."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from .models.auth import ROLES

practice_cli = AppGroup("practice", help="Practice administration commands.")


@practice_cli.command("create-user")
@click.argument("email")
@click.option("--role", required=True, help="admin, front_desk or clinician")
@click.option("--clinician-id", type=int, default=None,
              help="Link the account to this clinician (role clinician).")
@click.option("--password", default=None,
              help="The password; prompted for (hidden, twice) when not given.")
def create_user_cmd(email: str, role: str, clinician_id: int | None, password: str | None):
    """Create a user account."""
    from .services.accounts import AccountError, create_user

    if role not in ROLES:
        raise click.UsageError(f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}.")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(email, role, password, clinician_id=clinician_id)
    except AccountError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"Created {user.role} user {user.email} (id {user.id}).")


@practice_cli.command("demo")
def demo_cmd():
    """Load a small demo practice (idempotent)."""
    from .demo import load_demo

    report = load_demo()
    click.echo(report)


@practice_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def backup_cmd(path: str, force: bool):
    """Copy the SQLite database to PATH, consistently, while the app serves.

    SQLite's online backup API copies one snapshot (a read transaction: in
    WAL mode writers go on meanwhile), into PATH.partial, checks it
    (``PRAGMA integrity_check``) and renames it to PATH. On PostgreSQL, use
    ``pg_dump`` (see the README's restore drill).
    """
    import os
    import sqlite3
    from pathlib import Path

    from .extensions import db

    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            "This database is PostgreSQL: back it up with pg_dump, e.g. "
            "`pg_dump --format=custom --file=practice.dump \"$DATABASE_URL\"` "
            "(consistent while the app serves), and restore it with pg_restore; "
            "the README has the restore drill.")
    source = Path(url.database or "")
    if not url.database or url.database == ":memory:" or not source.is_file():
        raise click.ClickException(f"There is no SQLite database file at {source}.")
    target = Path(path)
    if target.resolve() == source.resolve():
        raise click.ClickException("PATH is the database itself: choose another file.")
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists: choose another PATH or add --force.")
    if not target.parent.is_dir():
        raise click.ClickException(f"The folder {target.parent} does not exist.")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(str(source), timeout=30)
    try:
        dst = sqlite3.connect(str(partial))
        try:
            src.backup(dst)  # every page in one step: one consistent snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
            tables = dst.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                 ).fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"The copy failed its integrity check: {check}")
    os.replace(partial, target)
    click.echo(f"Backed up {source.name} to {target} ({target.stat().st_size} bytes, "
               f"{tables} tables, integrity ok).")


@practice_cli.command("plugins")
def plugins_cmd():
    """List available and enabled plugins, their versions and hooks."""
    from .plugin_manager import describe_plugins

    for line in describe_plugins(current_app):
        click.echo(line)


def init_cli(app: Flask) -> None:
    from .plugin_manager import plugin_cli_commands

    app.cli.add_command(practice_cli)
    for command in plugin_cli_commands(app):  # e.g. ``flask ipt flags``
        app.cli.add_command(command)
