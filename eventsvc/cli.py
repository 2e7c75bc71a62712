"""`flask …` commands: demo data, staff accounts, mail, privacy and the counters.

Each command's work is one unit of work (`with unit_of_work():`, eventsvc/transactions.py):
committed when it ends normally, rolled back when it fails. Jobs that commit in steps (the
mail worker, the purge, the counters' rebuild) run each step as a unit of its own.
"""

from __future__ import annotations

import sys
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from .extensions import db
from .models import Role, User
from .services import ValidationFailed, audit
from .services.accounts import (
    create_user,
    list_users,
    normalise_email,
    organisation_by_slug_or_name,
)
from .services.api_tokens import create_token
from .services.demo import database_is_empty, load_demo
from .services.mailer import deliver_due, due_count
from .services.privacy import purge, purge_due
from .services.reminders import queue_reminder, reminders_due
from .services.sessions import purge_expired as purge_expired_sessions
from .services.stats import counter_drift, mend_event_counters
from .timezones import utcnow
from .transactions import unit_of_work

users = AppGroup("users", help="Staff accounts (organisers, door staff, ministry, admins).")


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", default="", help="Full name shown in the app.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option(
    "--organisation", "organisations", multiple=True, help="Slug or name; repeat for several."
)
@click.password_option(help="Prompted for (hidden, twice) when not given.")
def create_user_command(email, name, role, organisations, password):
    """Add a staff account."""
    try:
        # The command line speaks English, like the rest of `flask`.
        with unit_of_work(), force_locale("en"):
            orgs = []
            for key in organisations:
                org = organisation_by_slug_or_name(key)
                if org is None:
                    raise click.BadParameter(
                        f"no organisation {key!r}", param_hint="--organisation"
                    )
                orgs.append(org)
            user = create_user(email, name, Role(role), password, orgs)
            created = f"created {user.role.value} {user.email}"
    except ValidationFailed as exc:
        raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None
    click.echo(created)


@users.command("token")
@click.argument("email")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
def user_token_command(email, name):
    """Print a new personal API token for EMAIL (for scripts and door devices)."""
    with unit_of_work():
        user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
        if user is None:
            raise click.ClickException(f"no account {email}")
        with force_locale("en"):
            _, plain = create_token(user, name, utcnow(), actor=audit.SYSTEM)
    click.echo(plain)  # only once it is stored


@users.command("list")
def list_users_command():
    """List staff accounts with their role and organisations."""
    with unit_of_work():
        for user in list_users():
            orgs = ", ".join(o.slug for o in user.organisations) or "-"
            state = "" if user.is_active else " (disabled)"
            click.echo(f"{user.email:40} {user.role.value:10} {orgs}{state}")


@click.command("demo")
@click.option(
    "--if-empty", is_flag=True, help="Do nothing (and succeed) when the database has data."
)
def demo_command(if_empty):
    """Load the demo events and accounts from the source documents."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("demo data is never loaded in production")
    with unit_of_work():
        if not database_is_empty():
            if if_empty:
                click.echo("The database already has data; demo not loaded.")
                return
            raise click.ClickException("the database is not empty")
        accounts = load_demo(utcnow())
    click.echo("Demo data loaded. Sign in at /login with:")
    for account in accounts:
        click.echo(
            f"  {account.email:40} {account.password}  {account.role.value:10} {account.organisation}"
        )


mail_cli = AppGroup(
    "mail",
    help="The mail outbox: the worker, the reminders, the day-before needs digests, the "
    "feedback forms.",
)


@mail_cli.command("worker")
@click.option("--once", is_flag=True, help="Deliver everything that is due, then exit.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes.")
def mail_worker_command(once, interval):
    """Deliver queued mail. Several workers may run at once (PostgreSQL). Each message is a
    unit of work of its own (services/mailer.py)."""
    if once:
        with unit_of_work():
            due = due_count(utcnow())
        with click.progressbar(length=due, label="Sending mail", file=sys.stderr) as bar:
            report = deliver_due(utcnow(), progress=bar.update)
        _print_report(report)
        if report.server_unavailable:
            raise click.ClickException("the mail server is unavailable; messages stay queued")
        return
    pause = interval
    while True:  # until stopped (systemd, Ctrl-C)
        report = deliver_due(utcnow())
        if report.sent or report.retried or report.failed:
            _print_report(report)
        # The server being down is not the messages' fault: wait longer, up to a minute.
        pause = min(pause * 2, 60.0) if report.server_unavailable else interval
        time.sleep(pause)


def _print_report(report) -> None:
    click.echo(
        f"sent {report.sent}, retry later {report.retried}, failed {report.failed}, skipped {report.skipped}"
    )
    for error in report.errors[:10]:
        click.echo(f"  {error}", err=True)


@mail_cli.command("reminders")
def mail_reminders_command():
    """Queue the reminders that are due: the day before (from 10:00 Riga time) and two hours
    before, as each event chose (run every 15 minutes from a timer; running twice sends once)."""
    now = utcnow()
    queued = 0
    with unit_of_work():
        due = reminders_due(now)
        with click.progressbar(due, label="Queueing reminders", file=sys.stderr) as bar:
            for item in bar:
                queued += queue_reminder(item.registration, now, item.reminder)
    click.echo(f"queued {queued} reminders")


@mail_cli.command("needs-digest")
def mail_needs_digest_command():
    """Queue the day-before digest of accessibility needs to each event's organisers (run
    daily from cron, like the reminders; running twice sends once)."""
    from .services.needs_digest import digests_due, queue_digest

    now = utcnow()
    events = queued = 0
    with unit_of_work():
        for event in digests_due(now):
            events += 1
            queued += queue_digest(event, now)
    click.echo(f"queued {queued} needs digests for {events} events starting tomorrow")


@mail_cli.command("feedback")
def mail_feedback_command():
    """Queue the feedback forms for events that ended (run daily, or hourly, from a timer;
    running twice sends once)."""
    from .services.feedback import invitations_due, invite

    now = utcnow()
    due = invitations_due(now)
    queued = 0
    with (
        unit_of_work(),
        click.progressbar(due, label="Queueing feedback forms", file=sys.stderr) as bar,
    ):
        for registration in bar:
            queued += invite(registration, now)
    click.echo(f"queued {queued} feedback forms")


privacy_cli = AppGroup("privacy", help="Personal data: the retention purge.")


@privacy_cli.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Retention in days after an event ends [default: EVENTSVC_RETENTION_DAYS].",
)
@click.option("--dry-run", is_flag=True, help="Only count what would be anonymised.")
def privacy_purge_command(days, dry_run):
    """Anonymise registrations of events that ended more than the retention period ago, and
    delete expired staff sessions (run daily from cron or a systemd timer; a second run finds
    nothing to do)."""
    now = utcnow()
    days = current_app.config["EVENTSVC_RETENTION_DAYS"] if days is None else days
    with unit_of_work():  # counted, then let go: the purge takes its batches one by one
        due = purge_due(now, days)
    if dry_run:
        click.echo(
            f"would anonymise {due.registrations} registrations of {due.events} events "
            f"and delete {due.outbox_messages} outbox messages (ended more than {days} days ago)"
        )
        return
    with click.progressbar(
        length=due.registrations, label="Anonymising registrations", file=sys.stderr
    ) as bar:
        report = purge(now, days, progress=bar.update)
    click.echo(
        f"anonymised {report.registrations} registrations of {report.events} events, "
        f"deleted {report.outbox_messages} outbox messages (ended more than {days} days ago)"
    )
    # Staff sign-ins that have run out (their cookies sign no one in any more) go too.
    with unit_of_work():
        ended = purge_expired_sessions(utcnow())
    click.echo(f"deleted {ended} expired staff sessions")


stats_cli = AppGroup("stats", help="The per-event counters behind places left and the totals.")


@stats_cli.command("check")
def stats_check_command():
    """Compare every event's running counters with a count of its registrations; exit 1 and
    list the differences if there are any (after SQL run by hand, say)."""
    with unit_of_work():
        drift = counter_drift()
    for event_id, differences in sorted(drift.items()):
        click.echo(
            f"event {event_id}: "
            + ", ".join(
                f"{name} {have} (counted {want})" for name, (have, want) in differences.items()
            )
        )
    if drift:
        click.echo(f"{len(drift)} events differ; `flask stats rebuild` counts them again", err=True)
        sys.exit(1)
    click.echo("all counters agree with the registrations")


@stats_cli.command("rebuild")
def stats_rebuild_command():
    """Count again, from their registrations, the counters of every event whose counters
    differ; each event under its own lock, so registrations and the door go on meanwhile."""
    with unit_of_work():
        drifted = sorted(counter_drift())
    mended = 0
    for event_id in drifted:
        with unit_of_work():  # one event at a time, its lock held only for its own count
            mended += mend_event_counters(event_id)
    click.echo(f"counted again the counters of {mended} events that differed")


def register_cli(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo_command)
    app.cli.add_command(mail_cli)
    app.cli.add_command(privacy_cli)
    app.cli.add_command(stats_cli)
