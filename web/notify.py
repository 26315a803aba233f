"""``flask --app web notifications send [--loop]``: deliver the notification outbox."""

from __future__ import annotations

import time

import click
from flask import Flask, current_app

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
from .unit_of_work import CommandGroup, unit_of_work

notifications_cli = CommandGroup("notifications", help="Send queued notifications to applicants.")


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
    with unit_of_work():
        ids = due_notification_ids(db.session, utcnow())
    for notification_id in ids:
        try:
            agency = current_app.config["AGENCY"].short_name
            with unit_of_work():
                delivered = deliver_notification(db.session, notification_id, channel, utcnow(), policy, agency=agency)
            sent, failed = sent + delivered, failed + (not delivered)
        except Exception:
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
