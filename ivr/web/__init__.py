"""The supervisors' console: the live board, tickets, reports, the call tester page, health.

``app`` builds the aiohttp application, its route table and its lifetime; ``views``
and ``html`` are the sign-in page, the page frame, the board and ticket shells and the
static files (``static/``: one style sheet, the pages' scripts); ``api`` the JSON API
and the live event stream that ``relay`` fans out from Redis; ``summary`` the board's
tiles; ``tickets_api`` tickets, their recordings, acknowledge and resolve;
``reports_view``, ``reports_html`` and ``charts`` the reports; ``tester_view`` the
administrators' call tester; ``ops`` the health check and metrics; ``security`` who
may use which route; ``context`` what the handlers share. Part of ``ivr serve``, or
alone as ``ivr web``. Imports ``tester``, ``store`` and the rooms below, never
``workers``.
"""
