"""Process plumbing that knows nothing of the support line: structured logs and their
throttle, background tasks that stop when asked (and the one retry loop), the
event-loop lag probe, the clock, and the managed ``redis-server``. Imports only the
standard library and third-party packages; every other room may import it."""
