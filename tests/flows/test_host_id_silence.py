"""Silence at the Host ID prompt: asked again, never "not found", and counted apart."""

from __future__ import annotations

import datetime as dt

from redis.asyncio import Redis

from ivr.store.report_data import support_report
from ivr.store.stores import Stores
from tests.support.calls import played
from tests.support.harness import CHICAGO, OPEN_HOURS, Line

# Option 1, account 1001, PIN 2468, # for "no ticket opened yet": then the Host ID prompt.
TO_HOST_ID = "1 1001# 2468# #"
DAY = OPEN_HOURS.date()


async def test_silence_is_asked_again_then_the_host_id_goes_through(line: Line) -> None:
    """A timeout, then # alone: "I did not hear a Host ID" each time, then the ticket."""
    result = await line.call(f"{TO_HOST_ID}  # 123456# 1 #")
    heard = played(result)
    assert heard.count("host-id-not-heard") == 2
    assert heard.count("enter-host-id") == 3
    assert "host-id-not-found" not in heard
    assert result.variables["IVR_HOST_ID"] == "123456"
    assert result.variables["IVR_TICKET"]


async def test_repeated_silence_ends_in_the_general_queue_with_a_word(
    line: Line, stores: Stores
) -> None:
    """Silence and nothing more: three re-prompts, then the general queue, said out loud."""
    result = await line.call(TO_HOST_ID)
    heard = played(result)
    assert heard.count("enter-host-id") == 3
    assert heard.count("host-id-not-heard") == 3
    assert "host-id-not-found" not in heard
    assert heard[-1] == "transfer-general"
    assert (result.variables["IVR_QUEUE"], result.variables["IVR_RESELLER"]) == (
        "support-general",
        "1001",
    )
    [call_id] = await stores.calls.recent_ids()
    record = await stores.calls.get(call_id)
    assert record is not None
    assert record.steps[-1] == "host_id:no_input"
    assert "host_id:failed" not in record.steps


async def test_attempts_stay_bounded_when_silence_and_wrong_ids_alternate(line: Line) -> None:
    """Wrong Host IDs and silences mixed: at most six Host ID prompts, then the queue."""
    result = await line.call(f"{TO_HOST_ID} 999999# 1  888888# 1  777777# 1")
    heard = played(result)
    assert heard.count("enter-host-id") <= 6
    assert heard.count("host-id-not-found") == 3
    assert heard.count("host-id-not-heard") == 2
    assert result.variables["IVR_QUEUE"] == "support-general"


async def test_report_counts_silence_apart_from_not_found(
    line: Line, stores: Stores, redis: Redis
) -> None:
    """One call gives up in silence, one on three wrong Host IDs: one row in each table."""
    await line.call(TO_HOST_ID)
    await line.call(f"{TO_HOST_ID} 999999# 1 567890# 1 888888# 1")
    now = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(12), tzinfo=CHICAGO)
    report = await support_report(redis, CHICAGO, DAY, DAY, now)
    assert report.host_id_not_found == {"1001": 1}
    assert report.host_id_no_input == {"1001": 1}
    tables = {t.name: t for t in report.tables()}
    assert tables["host_id_no_input"].rows == (("1001", 1),)
    assert tables["host_id_not_found"].rows == (("1001", 1),)
