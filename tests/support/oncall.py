"""An on-call rotation for tests: Ana and Ben weekly from 23 November 2026, Sam as manager."""

from __future__ import annotations

import datetime as dt

from ivr.domain.oncall import Engineer, Rotation
from tests.support.harness import CHICAGO

ANA = Engineer("Ana Ruiz", "PJSIP/201")
BEN = Engineer("Ben Okafor", "PJSIP/202")
SAM = Engineer("Sam Lee", "PJSIP/299@trunk")
ROTATION = Rotation(
    engineers=(ANA, BEN),
    starts=dt.datetime(2026, 11, 23, 9, 0, tzinfo=CHICAGO),
    tz=CHICAGO,
    manager=SAM,
    step_seconds=(30, 30, 45),
)
