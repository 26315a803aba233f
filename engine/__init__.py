"""The domain core of Layar Sibalang: procedures, cases, tasks, timers, audit.

Never imports Flask or ``web``: the session, the acting user and the clock come in as
arguments, so the same code serves requests, the CLI, the timer worker and replays.
"""
