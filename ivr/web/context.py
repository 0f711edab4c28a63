"""What the web handlers share, as typed application keys (no globals)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from aiohttp import web
from redis.asyncio import Redis

from ivr.store.calendar import CalendarStore
from ivr.store.directory import Directory
from ivr.store.live import LiveStore
from ivr.store.tickets import TicketStore
from ivr.web.relay import Relay

Clock = Callable[[], dt.datetime]

REDIS = web.AppKey("redis", Redis)
LIVE = web.AppKey("live", LiveStore)
TICKETS = web.AppKey("tickets", TicketStore)
RELAY = web.AppKey("relay", Relay)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
AMI_CONFIGURED = web.AppKey("ami_configured", bool)
TIMEZONE = web.AppKey("timezone", ZoneInfo)
CALENDARS = web.AppKey("calendars", CalendarStore)
DIRECTORY = web.AppKey("directory", Directory)
# Where Asterisk records callers' descriptions: the only folder recordings are served from.
RECORDING_DIR = web.AppKey("recording_dir", str)
