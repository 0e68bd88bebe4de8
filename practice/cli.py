"""``flask --app wsgi practice ...``: accounts, demo data, plugins."""
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
