"""Settings from the environment: defaults, parsing, and clear errors naming the variable."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest

from ivr.config import ConfigError, load_settings
from ivr.services import configured_pins


def test_defaults() -> None:
    """With no variables the service listens on loopback with the documented defaults."""
    settings = load_settings({})
    assert (settings.agi_host, settings.agi_port, settings.redis_url) == ("127.0.0.1", 4573, None)
    assert settings.timezone.key == "America/Chicago"
    assert settings.queues.general == "support-general"
    assert settings.clock_start is None
    assert settings.allow_call_time is False


def test_values_parsed() -> None:
    """Each variable is parsed into its typed field."""
    settings = load_settings(
        {
            "IVR_REDIS_URL": "redis://10.0.0.2:6379/1",
            "IVR_AGI_HOST": "0.0.0.0",  # noqa: S104
            "IVR_AGI_ALLOW": "10.0.0.5, 10.0.1.0/24",
            "IVR_TIMEZONE": "America/New_York",
            "IVR_QUEUE_PREMIUM": "prem_q",
            "IVR_CLOCK_START": "2026-11-25T22:00:00-06:00",
            "IVR_SLA_WALL_CLOCK": "yes",
            "IVR_HOLIDAY_SUBDIV": "TX",
        }
    )
    assert settings.agi_allow == (
        ipaddress.ip_network("10.0.0.5/32"),
        ipaddress.ip_network("10.0.1.0/24"),
    )
    assert settings.queues.premium == "prem_q"
    assert settings.clock_start == dt.datetime.fromisoformat("2026-11-25T22:00:00-06:00")
    assert settings.sla_wall_clock is True


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"IVR_AGI_PORT": "70000"}, "IVR_AGI_PORT"),
        ({"IVR_AGI_PORT": "x"}, "IVR_AGI_PORT"),
        ({"IVR_REDIS_URL": "http://x"}, "IVR_REDIS_URL"),
        ({"IVR_TIMEZONE": "Mars/Olympus"}, "IVR_TIMEZONE"),
        ({"IVR_QUEUE_GENERAL": "a,b"}, "IVR_QUEUE_GENERAL"),
        ({"IVR_QUEUE_GENERAL": "x)|y"}, "IVR_QUEUE_GENERAL"),
        ({"IVR_AGI_ALLOW": "10.0.0.300"}, "IVR_AGI_ALLOW"),
        ({"IVR_AGI_HOST": "0.0.0.0"}, "IVR_AGI_ALLOW"),  # noqa: S104
        ({"IVR_CLOCK_START": "2026-11-25T22:00:00"}, "IVR_CLOCK_START"),
        ({"IVR_SLA_WALL_CLOCK": "maybe"}, "IVR_SLA_WALL_CLOCK"),
        ({"IVR_HOLIDAY_COUNTRY": "XX"}, "IVR_HOLIDAY_COUNTRY"),
        ({"IVR_PIN_MAX_FAILURES": "0"}, "IVR_PIN_MAX_FAILURES"),
        ({"IVR_RECORDING_DIR": "relative/dir"}, "IVR_RECORDING_DIR"),
        ({"IVR_LOG_FORMAT": "xml"}, "IVR_LOG_FORMAT"),
        ({"IVR_LOCKOUT_MAX_SECONDS": "0"}, "IVR_LOCKOUT_MAX_SECONDS"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], named: str) -> None:
    """A bad value is refused with the variable's name in the message."""
    with pytest.raises(ConfigError, match=named):
        load_settings(env)


def test_sla_watch_settings() -> None:
    """Alert shares are sorted and deduplicated; the manager is a Dial() target; bad ones named."""
    settings = load_settings(
        {"IVR_SLA_ALERT_SHARES": "0.8, 0.5,0.5", "IVR_SUPPORT_MANAGER_DIAL": "PJSIP/manager"}
    )
    assert settings.sla_alert_shares == (0.5, 0.8)
    assert settings.support_manager_dial == "PJSIP/manager"
    assert load_settings({}).sla_alert_shares == (0.5, 0.8)
    for env in (
        {"IVR_SLA_ALERT_SHARES": "0.5,1.0"},
        {"IVR_SLA_ALERT_SHARES": "half"},
        {"IVR_SUPPORT_MANAGER_DIAL": "PJSIP/x,trunk)"},
        {"IVR_SLA_CHECK_SECONDS": "0"},
    ):
        with pytest.raises(ConfigError, match=next(iter(env))):
            load_settings(env)


def test_log_format_and_lockout_cap() -> None:
    """IVR_LOG_FORMAT picks json or text (unset: the command decides); the lockout cap parses."""
    assert load_settings({}).log_format is None
    parsed = load_settings({"IVR_LOG_FORMAT": "TEXT", "IVR_LOCKOUT_MAX_SECONDS": "7200"})
    assert (parsed.log_format, parsed.lockout_max_seconds) == ("text", 7200)


def test_call_tester_settings() -> None:
    """The tester's scratch database and call limit: defaults, parsing, bad values named."""
    assert (load_settings({}).tester_db, load_settings({}).tester_call_seconds) == (15, 30.0)
    settings = load_settings({"IVR_TESTER_DB": "7", "IVR_TESTER_CALL_SECONDS": "12.5"})
    assert (settings.tester_db, settings.tester_call_seconds) == (7, 12.5)
    for env in ({"IVR_TESTER_DB": "-1"}, {"IVR_TESTER_CALL_SECONDS": "0"}):
        with pytest.raises(ConfigError, match=next(iter(env))):
            load_settings(env)


def test_pin_queue_limit() -> None:
    """Seconds of silence a PIN check may cost: 2 by default, parsed, nonsense refused,
    and handed to the hasher that decides admission."""
    assert load_settings({}).pin_queue_max_seconds == 2.0
    settings = load_settings({"IVR_PIN_QUEUE_MAX_SECONDS": "1.5"})
    assert settings.pin_queue_max_seconds == 1.5
    pins = configured_pins(settings.with_overrides(pin_hash_memory_kib=8, pin_hash_time_cost=1))
    try:
        assert pins.queue_max_seconds == 1.5
    finally:
        pins.close()
    for value in ("0", "-1", "soon", "100000"):
        with pytest.raises(ConfigError, match="IVR_PIN_QUEUE_MAX_SECONDS"):
            load_settings({"IVR_PIN_QUEUE_MAX_SECONDS": value})


def test_pin_hash_cost() -> None:
    """The argon2id cost defaults to OWASP's minimum, parses, and refuses nonsense."""
    assert (load_settings({}).pin_hash_memory_kib, load_settings({}).pin_hash_time_cost) == (
        19 * 1024, 2,
    )  # fmt: skip
    cheap = load_settings({"IVR_PIN_HASH_MEMORY_KIB": "8", "IVR_PIN_HASH_TIME_COST": "1"})
    assert (cheap.pin_hash_memory_kib, cheap.pin_hash_time_cost) == (8, 1)
    for env in ({"IVR_PIN_HASH_MEMORY_KIB": "4"}, {"IVR_PIN_HASH_TIME_COST": "0"}):
        with pytest.raises(ConfigError, match=next(iter(env))):
            load_settings(env)
