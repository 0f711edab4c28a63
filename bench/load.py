"""Load generator: many whole support-line calls at once against ``ivr serve``.

Starts its own ``ivr serve --demo`` (private data directory, free loopback port)
unless ``--port`` names a running one, then keeps ``--concurrency`` simulated
calls going (each a whole call that opens a ticket, with a pause before every
key) until ``--calls`` have run or ``--duration`` seconds have passed. Prints
failed calls, the server's command turnaround (reply sent to next command
received) p50/p99, and the server's memory at start and end. Loopback only;
bounded in count and time. The engine is ``ivr.tester.load``.

    .venv/bin/python -m bench.load --calls 200 --concurrency 200
    .venv/bin/python -m bench.load --calls 100000 --concurrency 1000 --duration 300
"""

from __future__ import annotations

import argparse
import asyncio

from bench.common import ivr_serve
from ivr.tester.load import PIN_LIMIT_OUT_OF_REACH, run_load


def main(argv: list[str] | None = None) -> int:
    """Run a load and print its figures; exit 1 if any call failed."""
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--duration", type=float, default=300.0, help="stop starting calls after")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds before each key")
    parser.add_argument("--port", type=int, default=None, help="a running ivr serve on loopback")
    parser.add_argument("--at", default="2026-11-25T10:00:00-06:00", help="the served 'now'")
    args = parser.parse_args(argv)
    if args.port is not None:
        result = asyncio.run(
            run_load(args.port, None, args.calls, args.concurrency, args.duration, args.pause)
        )
    else:
        # The service's own Redis in its private data directory (no IVR_REDIS_URL).
        with ivr_serve(None, {"IVR_CLOCK_START": args.at} | PIN_LIMIT_OUT_OF_REACH) as served:
            result = asyncio.run(
                run_load(
                    served.agi_port,
                    served.pid,
                    args.calls,
                    args.concurrency,
                    args.duration,
                    args.pause,
                )
            )
    print(result.report())  # noqa: T201
    return 1 if result.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
