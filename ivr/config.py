"""Settings: parsed once from the environment into one typed object, passed down.

Every variable has a default that works on a single box; a bad value stops the
service at start-up with a message naming the variable, the value and what is
expected.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.domain.admission import QUIET_LIMIT_SECONDS
from ivr.domain.holidays import UnknownHolidayRegion, holiday_dates
from ivr.domain.oncall import valid_dial
from ivr.domain.records import Tier
from ivr.domain.times import parse_aware_time

T = TypeVar("T")
_QUEUE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PREFIX_RE = re.compile(r"^[A-Za-z0-9_/-]{0,64}$")
_PATH_RE = re.compile(r"^/[A-Za-z0-9_./-]{0,200}$")
_REGION_RE = re.compile(r"^[A-Za-z0-9-]{0,10}$")
_AMI_USER_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(ValueError):
    """A setting has a bad value; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Queues:
    """Asterisk queue names the service hands to the dialplan."""

    standard: str = "support-standard"
    premium: str = "support-premium"
    premium_plus: str = "support-premium-plus"
    general: str = "support-general"
    renewals: str = "support-renewals"
    warranty: str = "support-warranty"

    def for_tier(self, tier: Tier) -> str:
        """The support queue of a tier."""
        return {
            Tier.STANDARD: self.standard,
            Tier.PREMIUM: self.premium,
            Tier.PREMIUM_PLUS: self.premium_plus,
        }[tier]


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service can be told from outside."""

    redis_url: str | None = None
    data_dir: Path = field(default_factory=lambda: Path.home() / ".local/share/ivr")
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    agi_allow: tuple[IpNetwork, ...] = ()
    agi_max_connections: int = 2000
    agi_header_timeout: float = 10.0
    agi_command_timeout: float = 30.0
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("America/Chicago"))
    queues: Queues = field(default_factory=Queues)
    sounds_prefix: str = "ivr"
    recording_dir: str = "/var/spool/asterisk/ivr"
    pin_max_failures: int = 6
    lockout_seconds: int = 1800
    lockout_max_seconds: int = 86400
    # argon2id cost of PIN hashes (OWASP's minimum by default); see ivr/store/pins.py.
    pin_hash_memory_kib: int = 19 * 1024
    pin_hash_time_cost: int = 2
    # Seconds of silence a caller may hear while the PIN is checked: past it "one
    # moment", past twice it the general queue (ivr/domain/admission.py).
    pin_queue_max_seconds: float = QUIET_LIMIT_SECONDS
    failure_window_seconds: int = 3600
    sla_wall_clock: bool = False
    log_level: str = "INFO"
    # "json" or "text"; None: JSON for ``ivr serve``, text for commands people type.
    log_format: str | None = None
    holiday_country: str = "US"
    holiday_subdiv: str = ""
    # Demos and tests only: the service's clock starts at this time and runs on
    # (calls, SLA watch, re-paging alike), and whether a call may name its own time
    # (``support-line?at=...``). Both off in production.
    clock_start: dt.datetime | None = None
    allow_call_time: bool = False
    ami_host: str | None = None
    ami_port: int = 5038
    ami_username: str = "ivr"
    ami_secret: str = field(default="", repr=False)
    oncall_max_rounds: int = 3
    oncall_round_gap_seconds: int = 300
    # The supervisors' dashboard (ivr serve and ivr web).
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    web_secure_cookies: bool = False
    web_session_seconds: int = 8 * 3600
    service_level_seconds: int = 60
    sla_alert_shares: tuple[float, ...] = (0.5, 0.8)
    support_manager_dial: str = ""
    sla_check_seconds: float = 10.0
    # The vendor's helpdesk webhook: ticket events are queued and delivered when set.
    helpdesk_url: str | None = None
    helpdesk_secret: str = field(default="", repr=False)
    helpdesk_max_attempts: int = 8
    helpdesk_retry_base_seconds: float = 2.0
    helpdesk_retry_max_seconds: float = 300.0
    helpdesk_timeout_seconds: float = 10.0
    helpdesk_claim_idle_seconds: float = 60.0
    # Distinct per worker sharing one Redis: it is part of journal ticket numbers.
    worker_id: int = 1
    # The administrators' call tester: its scratch Redis database and call time limit.
    tester_db: int = 15
    tester_call_seconds: float = 30.0
    # Diagnostics: a file the event-loop lag probe writes its samples to at exit.
    lag_probe_file: str | None = None

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields replaced (command-line options)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def check(self) -> None:
        """Cross-field rules: listening beyond loopback needs an allow-list."""
        host = ipaddress.ip_address(self.agi_host) if _is_ip(self.agi_host) else None
        if (host is None or not host.is_loopback) and not self.agi_allow:
            raise ConfigError(
                f"IVR_AGI_HOST={self.agi_host} listens beyond loopback: set IVR_AGI_ALLOW to "
                "the Asterisk addresses (e.g. 10.0.0.5,10.0.1.0/24)"
            )


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Parse ``IVR_*`` variables; raise ``ConfigError`` naming the first bad one."""
    env = os.environ if environ is None else environ
    base = Settings()

    def get(name: str, parse: Callable[[str, str], T], default: T) -> T:
        raw = env.get(name)
        if raw is None or raw.strip() == "":
            return default
        return parse(name, raw.strip())

    queues = Queues(
        standard=get("IVR_QUEUE_STANDARD", _queue, base.queues.standard),
        premium=get("IVR_QUEUE_PREMIUM", _queue, base.queues.premium),
        premium_plus=get("IVR_QUEUE_PREMIUM_PLUS", _queue, base.queues.premium_plus),
        general=get("IVR_QUEUE_GENERAL", _queue, base.queues.general),
        renewals=get("IVR_QUEUE_RENEWALS", _queue, base.queues.renewals),
        warranty=get("IVR_QUEUE_WARRANTY", _queue, base.queues.warranty),
    )
    settings = Settings(
        redis_url=get("IVR_REDIS_URL", _redis_url, None),
        data_dir=get("IVR_DATA_DIR", lambda _n, v: Path(v).expanduser(), base.data_dir),
        agi_host=get("IVR_AGI_HOST", _host, base.agi_host),
        agi_port=get("IVR_AGI_PORT", _port, base.agi_port),
        agi_allow=get("IVR_AGI_ALLOW", _networks, base.agi_allow),
        agi_max_connections=get(
            "IVR_AGI_MAX_CONNECTIONS", _int_range(1, 100_000), base.agi_max_connections
        ),
        agi_header_timeout=get(
            "IVR_AGI_HEADER_TIMEOUT", _float_range(0.1, 300), base.agi_header_timeout
        ),
        agi_command_timeout=get(
            "IVR_AGI_COMMAND_TIMEOUT", _float_range(1, 600), base.agi_command_timeout
        ),
        timezone=get("IVR_TIMEZONE", _zone, base.timezone),
        queues=queues,
        sounds_prefix=get("IVR_SOUNDS_PREFIX", _pattern(_PREFIX_RE), base.sounds_prefix),
        recording_dir=get("IVR_RECORDING_DIR", _pattern(_PATH_RE), base.recording_dir),
        pin_max_failures=get("IVR_PIN_MAX_FAILURES", _int_range(1, 100), base.pin_max_failures),
        lockout_seconds=get("IVR_LOCKOUT_SECONDS", _int_range(1, 86400 * 7), base.lockout_seconds),
        pin_hash_memory_kib=get(
            "IVR_PIN_HASH_MEMORY_KIB", _int_range(8, 4 * 1024 * 1024), base.pin_hash_memory_kib
        ),
        pin_hash_time_cost=get(
            "IVR_PIN_HASH_TIME_COST", _int_range(1, 20), base.pin_hash_time_cost
        ),
        pin_queue_max_seconds=get(
            "IVR_PIN_QUEUE_MAX_SECONDS", _float_range(0.1, 3600), base.pin_queue_max_seconds
        ),
        lockout_max_seconds=get(
            "IVR_LOCKOUT_MAX_SECONDS", _int_range(1, 86400 * 30), base.lockout_max_seconds
        ),
        failure_window_seconds=get(
            "IVR_FAILURE_WINDOW_SECONDS", _int_range(1, 86400 * 7), base.failure_window_seconds
        ),
        sla_wall_clock=get("IVR_SLA_WALL_CLOCK", _bool, base.sla_wall_clock),
        log_level=get("IVR_LOG_LEVEL", _log_level, base.log_level),
        log_format=get("IVR_LOG_FORMAT", _log_format, base.log_format),
        holiday_country=get("IVR_HOLIDAY_COUNTRY", _pattern(_REGION_RE), base.holiday_country),
        holiday_subdiv=get("IVR_HOLIDAY_SUBDIV", _pattern(_REGION_RE), base.holiday_subdiv),
        clock_start=get("IVR_CLOCK_START", _aware_time, None),
        allow_call_time=get("IVR_ALLOW_CALL_TIME", _bool, base.allow_call_time),
        ami_host=get("IVR_AMI_HOST", _host, None),
        ami_port=get("IVR_AMI_PORT", _port, base.ami_port),
        ami_username=get("IVR_AMI_USERNAME", _pattern(_AMI_USER_RE), base.ami_username),
        ami_secret=env.get("IVR_AMI_SECRET", ""),
        oncall_max_rounds=get("IVR_ONCALL_MAX_ROUNDS", _int_range(1, 50), base.oncall_max_rounds),
        oncall_round_gap_seconds=get(
            "IVR_ONCALL_ROUND_GAP_SECONDS", _int_range(10, 86400), base.oncall_round_gap_seconds
        ),
        web_host=get("IVR_WEB_HOST", _host, base.web_host),
        web_port=get("IVR_WEB_PORT", _port, base.web_port),
        web_secure_cookies=get("IVR_WEB_SECURE_COOKIES", _bool, base.web_secure_cookies),
        web_session_seconds=get(
            "IVR_WEB_SESSION_SECONDS", _int_range(300, 7 * 86400), base.web_session_seconds
        ),
        service_level_seconds=get(
            "IVR_SERVICE_LEVEL_SECONDS", _int_range(1, 3600), base.service_level_seconds
        ),
        sla_alert_shares=get("IVR_SLA_ALERT_SHARES", _shares, base.sla_alert_shares),
        support_manager_dial=get("IVR_SUPPORT_MANAGER_DIAL", _dial, base.support_manager_dial),
        sla_check_seconds=get(
            "IVR_SLA_CHECK_SECONDS", _float_range(0.5, 300), base.sla_check_seconds
        ),
        helpdesk_url=get("IVR_HELPDESK_URL", _http_url, None),
        helpdesk_secret=env.get("IVR_HELPDESK_SECRET", ""),
        helpdesk_max_attempts=get(
            "IVR_HELPDESK_MAX_ATTEMPTS", _int_range(1, 100), base.helpdesk_max_attempts
        ),
        helpdesk_retry_base_seconds=get(
            "IVR_HELPDESK_RETRY_BASE_SECONDS",
            _float_range(0.01, 3600),
            base.helpdesk_retry_base_seconds,
        ),
        helpdesk_retry_max_seconds=get(
            "IVR_HELPDESK_RETRY_MAX_SECONDS",
            _float_range(0.01, 86400),
            base.helpdesk_retry_max_seconds,
        ),
        helpdesk_timeout_seconds=get(
            "IVR_HELPDESK_TIMEOUT_SECONDS", _float_range(0.1, 300), base.helpdesk_timeout_seconds
        ),
        helpdesk_claim_idle_seconds=get(
            "IVR_HELPDESK_CLAIM_IDLE_SECONDS",
            _float_range(0.1, 86400),
            base.helpdesk_claim_idle_seconds,
        ),
        worker_id=get("IVR_WORKER_ID", _int_range(1, 99), base.worker_id),
        tester_db=get("IVR_TESTER_DB", _int_range(0, 1023), base.tester_db),
        tester_call_seconds=get(
            "IVR_TESTER_CALL_SECONDS", _float_range(1, 300), base.tester_call_seconds
        ),
        lag_probe_file=get("IVR_LAG_PROBE_FILE", _pattern(_PATH_RE), None),
    )
    if settings.helpdesk_url and len(settings.helpdesk_secret) < 16:
        raise ConfigError(
            "IVR_HELPDESK_URL is set: IVR_HELPDESK_SECRET must be set too (16 characters or more)"
        )
    if settings.helpdesk_secret and len(settings.helpdesk_secret) < 16:
        raise ConfigError("IVR_HELPDESK_SECRET must be 16 characters or more")
    if settings.ami_host and not settings.ami_secret:
        raise ConfigError("IVR_AMI_HOST is set: IVR_AMI_SECRET must be set too")
    try:
        holiday_dates(settings.holiday_country, settings.holiday_subdiv, 2000)
    except UnknownHolidayRegion as exc:
        raise ConfigError(f"IVR_HOLIDAY_COUNTRY/IVR_HOLIDAY_SUBDIV: {exc}") from None
    settings.check()
    return settings


def _shares(name: str, value: str) -> tuple[float, ...]:
    try:
        shares = sorted({float(part) for part in value.split(",") if part.strip()})
    except ValueError:
        raise ConfigError(f"{name}={value!r}: expected shares such as 0.5,0.8") from None
    if not shares or not all(0 < share < 1 for share in shares):
        raise ConfigError(f"{name}={value!r}: each share is above 0 and below 1 (0.5,0.8)")
    return tuple(shares)


def _dial(name: str, value: str) -> str:
    if not valid_dial(value):
        raise ConfigError(f"{name}={value!r}: expected a Dial() target such as PJSIP/manager")
    return value


def _queue(name: str, value: str) -> str:
    if not _QUEUE_RE.match(value):
        raise ConfigError(f"{name}={value!r}: a queue name is 1-64 letters, digits, '_' or '-'")
    return value


def _redis_url(name: str, value: str) -> str:
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"{name}: expected redis://host:port/db, rediss://... or unix://path")
    return value


def _http_url(name: str, value: str) -> str:
    if not re.fullmatch(r"https?://[A-Za-z0-9.:\[\]-]+(/[^\s]*)?", value):
        raise ConfigError(f"{name}: expected http://host[:port]/path or https://...")
    return value


def _host(name: str, value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9.:-]{1,253}", value):
        raise ConfigError(f"{name}={value!r}: expected an IP address or host name")
    return value


def _port(name: str, value: str) -> int:
    return _int_range(0, 65535)(name, value)


def _int_range(low: int, high: int) -> Callable[[str, str], int]:
    def parse(name: str, value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name}={value!r}: expected a whole number") from None
        if not low <= number <= high:
            raise ConfigError(f"{name}={number}: expected {low} to {high}")
        return number

    return parse


def _float_range(low: float, high: float) -> Callable[[str, str], float]:
    def parse(name: str, value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"{name}={value!r}: expected a number of seconds") from None
        if not low <= number <= high:
            raise ConfigError(f"{name}={number}: expected {low} to {high} seconds")
        return number

    return parse


def _networks(name: str, value: str) -> tuple[IpNetwork, ...]:
    nets: list[IpNetwork] = []
    for part in value.split(","):
        try:
            nets.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            raise ConfigError(f"{name}: {part.strip()!r} is not an IP address or CIDR") from None
    return tuple(nets)


def _zone(name: str, value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{name}={value!r}: not a time zone name such as America/Chicago"
        ) from None


def _bool(name: str, value: str) -> bool:
    low = value.lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={value!r}: expected true or false")


def _aware_time(name: str, value: str) -> dt.datetime:
    try:
        return parse_aware_time(value)
    except ValueError as exc:
        raise ConfigError(f"{name}={value!r}: {exc}") from None


def _log_level(name: str, value: str) -> str:
    upper = value.upper()
    if upper not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"{name}={value!r}: expected DEBUG, INFO, WARNING or ERROR")
    return upper


def _log_format(name: str, value: str) -> str:
    lower = value.lower()
    if lower not in {"json", "text"}:
        raise ConfigError(f"{name}={value!r}: expected json or text")
    return lower


def _pattern(regex: re.Pattern[str]) -> Callable[[str, str], str]:
    def parse(name: str, value: str) -> str:
        if not regex.match(value):
            raise ConfigError(f"{name}={value!r}: does not match {regex.pattern}")
        return value

    return parse
