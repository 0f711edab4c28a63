"""What the JSON API's handlers share: the answer and the ``?limit=`` query."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

MAX_LIMIT = 500


def json_reply(data: Any, status: int = 200) -> web.Response:
    """A JSON answer (times and other values JSON has no type for, as text)."""
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, default=str))


def limit_of(request: web.Request, default: int = 100) -> int:
    """The ``?limit=`` of a list request, 1 to ``MAX_LIMIT``; 400 when it is not a number."""
    try:
        value = int(request.query.get("limit", default))
    except ValueError:
        raise web.HTTPBadRequest(text="limit must be a number") from None
    return max(1, min(value, MAX_LIMIT))
