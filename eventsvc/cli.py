"""`flask …` commands: demo data and staff accounts."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from .extensions import db
from .models import Role
from .services import ValidationFailed
from .services.accounts import create_user, list_users, organisation_by_slug_or_name
from .services.demo import database_is_empty, load_demo
from .timezones import utcnow

users = AppGroup("users", help="Staff accounts (organisers, ministry, admins).")


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", default="", help="Full name shown in the app.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--organisation", "organisations", multiple=True, help="Slug or name; repeat for several.")
@click.password_option(help="Prompted for (hidden, twice) when not given.")
def create_user_command(email, name, role, organisations, password):
    """Add a staff account."""
    orgs = []
    for key in organisations:
        org = organisation_by_slug_or_name(key)
        if org is None:
            raise click.BadParameter(f"no organisation {key!r}", param_hint="--organisation")
        orgs.append(org)
    try:
        with force_locale("en"):  # the command line speaks English, like the rest of `flask`
            user = create_user(email, name, Role(role), password, orgs)
    except ValidationFailed as exc:
        db.session.rollback()
        raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None
    db.session.commit()
    click.echo(f"created {user.role.value} {user.email}")


@users.command("list")
def list_users_command():
    """List staff accounts with their role and organisations."""
    for user in list_users():
        orgs = ", ".join(o.slug for o in user.organisations) or "-"
        state = "" if user.is_active else " (disabled)"
        click.echo(f"{user.email:40} {user.role.value:10} {orgs}{state}")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when the database has data.")
def demo_command(if_empty):
    """Load the demo events and accounts from the source documents."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("demo data is never loaded in production")
    if not database_is_empty():
        if if_empty:
            click.echo("The database already has data; demo not loaded.")
            return
        raise click.ClickException("the database is not empty")
    accounts = load_demo(utcnow())
    db.session.commit()
    click.echo("Demo data loaded. Sign in at /login with:")
    for account in accounts:
        click.echo(f"  {account.email:40} {account.password}  {account.role.value:10} {account.organisation}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo_command)
