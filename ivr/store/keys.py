"""Every Redis key the service uses: the one place for their names.

All keys share the ``ivr:`` prefix so one Redis can host other data, and so an
operator can list or back up exactly what belongs to the support line.
"""

from __future__ import annotations

PREFIX = "ivr"

RESELLERS = f"{PREFIX}:resellers"  # set of account numbers
SYSTEMS = f"{PREFIX}:systems"  # set of Host IDs
TICKETS = f"{PREFIX}:tickets"  # sorted set: ticket number by creation time
TICKET_SEQUENCE = f"{PREFIX}:ticket:seq"  # counter behind ticket numbers
CALLS = f"{PREFIX}:calls"  # sorted set: call id by start time
CALLBACKS = f"{PREFIX}:callbacks"  # sorted set: ticket number by callback time
AUDIT = f"{PREFIX}:audit"  # stream of security events (lockouts)
ONCALL_ROTATION = f"{PREFIX}:oncall:rotation"  # JSON document
ONCALL_OVERRIDES = f"{PREFIX}:oncall:overrides"  # hash: id -> JSON override
REPAGE = f"{PREFIX}:oncall:repage"  # sorted set: unaccepted ticket by next page time
CALENDAR_CLOSURES = f"{PREFIX}:calendar:closures"  # hash: ISO date -> reason
CALENDAR_OPENINGS = f"{PREFIX}:calendar:openings"  # hash: ISO date -> reason
# Pub/sub channel of live changes (JSON objects with a "kind" field) that every web
# process relays to its browsers: queue state, SLA alerts, ticket changes.
LIVE = f"{PREFIX}:live"


def reseller(account: str) -> str:
    """Hash of one reseller (name, status, phones, pin_hash)."""
    return f"{PREFIX}:reseller:{account}"


def phone(number: str) -> str:
    """Set of the accounts a caller-ID number belongs to."""
    return f"{PREFIX}:phone:{number}"


def system(host_id: str) -> str:
    """Hash of one system in the registry."""
    return f"{PREFIX}:system:{host_id}"


def ticket(number: str) -> str:
    """Hash of one ticket."""
    return f"{PREFIX}:ticket:{number}"


def ticket_pages(number: str) -> str:
    """List of a ticket's paging attempts (JSON entries)."""
    return f"{PREFIX}:ticket:{number}:pages"


def call(call_id: str) -> str:
    """Hash of one call record."""
    return f"{PREFIX}:call:{call_id}"


def pin_failures_account(account: str) -> str:
    """Failed-PIN counter of an account number (entered, existing or not)."""
    return f"{PREFIX}:pinfail:account:{account}"


def pin_failures_caller(number: str) -> str:
    """Failed-PIN counter of a calling number."""
    return f"{PREFIX}:pinfail:caller:{number}"


def lock_account(account: str) -> str:
    """Present while an account is locked out."""
    return f"{PREFIX}:lock:account:{account}"


def lock_caller(number: str) -> str:
    """Present while a calling number is locked out."""
    return f"{PREFIX}:lock:caller:{number}"


def lockouts_account(account: str) -> str:
    """Lockouts of an account number in the last day (doubles the next one)."""
    return f"{PREFIX}:lockouts:account:{account}"


def lockouts_caller(number: str) -> str:
    """Lockouts of a calling number in the last day (doubles the next one)."""
    return f"{PREFIX}:lockouts:caller:{number}"
