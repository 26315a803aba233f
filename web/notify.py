"""``flask --app web notifications send [--loop]``: deliver the notification outbox."""

from __future__ import annotations

import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from engine.clock import utcnow
from engine.notifications import (
    Channel,
    HttpGatewayChannel,
    LogFileChannel,
    RetryPolicy,
    deliver_notification,
    due_notification_ids,
)

from .extensions import db

notifications_cli = AppGroup("notifications", help="Send queued notifications to applicants.")


def configured_channel() -> Channel:
    """The SMS/WhatsApp gateway when NOTIFY_GATEWAY_URL is set, else the log file."""
    config = current_app.config
    if config.get("NOTIFY_GATEWAY_URL"):
        return HttpGatewayChannel(
            config["NOTIFY_GATEWAY_URL"], config.get("NOTIFY_GATEWAY_TOKEN", ""), config["NOTIFY_GATEWAY_TIMEOUT"]
        )
    return LogFileChannel(config["NOTIFY_LOG_FILE"])


def send_due(channel: Channel) -> tuple[int, int]:
    """One round: each due notification in its own transaction; returns (sent, failed)."""
    policy = RetryPolicy(current_app.config["NOTIFY_MAX_ATTEMPTS"], current_app.config["NOTIFY_RETRY_BASE_SECONDS"])
    sent = failed = 0
    ids = due_notification_ids(db.session, utcnow())
    db.session.commit()
    for notification_id in ids:
        try:
            agency = current_app.config["AGENCY"].short_name
            if deliver_notification(db.session, notification_id, channel, utcnow(), policy, agency=agency):
                sent += 1
            else:
                failed += 1
            db.session.commit()
        except Exception:
            db.session.rollback()
            current_app.logger.exception("notification %s failed", notification_id)
            failed += 1
    return sent, failed


@notifications_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep sending (the worker)")
@click.option("--interval", default=15, show_default=True, help="Seconds between rounds with --loop")
def send_command(loop: bool, interval: int) -> None:
    """Send the notifications that are due, with retries and exponential backoff."""
    channel = configured_channel()
    while True:
        sent, failed = send_due(channel)
        click.echo(f"{utcnow():%Y-%m-%d %H:%M:%S} sent {sent}, not sent {failed} (via {channel.name})")
        if not loop:
            return
        time.sleep(interval)


def init_app(app: Flask) -> None:
    app.cli.add_command(notifications_cli)
