"""A test call's log lines: kept out of the service's log, shown with the answer.

The flows log a test call as they log a real one (``call=... ticket 10042
opened``); in the service's log such a line reads as a real ticket. While
``captured()`` is active, every record an ``ivr`` logger makes in that task, or in
a task started from it, is kept in the returned list (secrets masked) and not
handed to the service's handlers. The test call's FastAGI server is started
inside the block, so its connection tasks inherit the context and their lines
are caught too; real calls, in tasks of their own, are untouched.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar

from ivr.runtime.logs import redact

MAX_LINES = 200
_LINES: ContextVar[list[str] | None] = ContextVar("ivr_tester_log", default=None)


class _Divert(logging.Filter):
    """Keeps a test call's records in its list instead of passing them on."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False (dropped) inside a test call, after keeping the line; True elsewhere."""
        lines = _LINES.get()
        if lines is None:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # bad arguments: logging would print a traceback
            message = str(record.msg)
        if len(lines) < MAX_LINES:
            lines.append(f"{record.levelname} {record.name}: {redact(message)}")
        return False


_DIVERT = _Divert()


def _install() -> None:
    """Put the filter on every ``ivr`` logger made so far (module loggers exist once
    the line's modules are imported, which they are before a test call runs)."""
    for name, logger in list(logging.root.manager.loggerDict.items()):
        ours = name == "ivr" or name.startswith("ivr.")
        if ours and isinstance(logger, logging.Logger) and _DIVERT not in logger.filters:
            logger.addFilter(_DIVERT)


@contextlib.contextmanager
def captured() -> Iterator[list[str]]:
    """The log lines of whatever runs inside the block, kept from the service's log."""
    _install()
    lines: list[str] = []
    token = _LINES.set(lines)
    try:
        yield lines
    finally:
        _LINES.reset(token)
