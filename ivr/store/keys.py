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
SLA_WATCH = f"{PREFIX}:sla:watch"  # sorted set: open ticket by next SLA mark time
SLA_LEADER = f"{PREFIX}:sla:leader"  # lock: the one worker running the SLA watch (expires)
# Ticket events on their way to the helpdesk webhook: written in the same
# transaction as the change, read by the consumer group below, deleted once delivered.
HELPDESK_OUTBOX = f"{PREFIX}:helpdesk:outbox"  # stream: fields key, kind, ticket, payload
HELPDESK_GROUP = "helpdesk"  # consumer group on HELPDESK_OUTBOX (a name, not a key)
HELPDESK_ATTEMPTS = f"{PREFIX}:helpdesk:attempts"  # hash: entry id -> JSON attempts, due
HELPDESK_DEAD = f"{PREFIX}:helpdesk:dead"  # list: JSON dead letters (redeliver moves back)
# Pub/sub channel of live changes (JSON objects with a "kind" field) that every web
# process relays to its browsers: queue state, SLA alerts, ticket changes.
LIVE = f"{PREFIX}:live"
QUEUE_NAMES = f"{PREFIX}:queues"  # set of queue names seen on AMI
AMI_STATUS = f"{PREFIX}:ami:status"  # hash: state (up|down), since, detail
AMI_HEARTBEAT = f"{PREFIX}:ami:heartbeat"  # present (with a TTL) while a consumer runs
# Held in the call tester's scratch database (IVR_TESTER_DB) while a test call runs.
TESTER_LOCK = f"{PREFIX}:tester:lock"
USERS = f"{PREFIX}:users"  # set of dashboard account names
# Hash: PIN checks under load (fields in ivr/store/pin_load.py) -> count, every worker's.
PIN_LOAD = f"{PREFIX}:pin:load"


def reseller(account: str) -> str:
    """Hash of one reseller (name, status, phones, pin_hash)."""
    return f"{PREFIX}:reseller:{account}"


def phone(number: str) -> str:
    """Set of the accounts a caller-ID number belongs to."""
    return f"{PREFIX}:phone:{number}"


def system(host_id: str) -> str:
    """Hash of one system in the registry."""
    return f"{PREFIX}:system:{host_id}"


def telephone(serial: str) -> str:
    """Hash of one Infinity telephone set (or SIP client) in the registry."""
    return f"{PREFIX}:telephone:{serial}"


def system_telephones(host_id: str) -> str:
    """Set of the serials of the telephone sets registered under a system."""
    return f"{PREFIX}:telephones:{host_id}"


def ticket(number: str) -> str:
    """Hash of one ticket."""
    return f"{PREFIX}:ticket:{number}"


def ticket_paging_log(number: str) -> str:
    """List of a ticket's paging attempts (JSON entries)."""
    return f"{PREFIX}:ticket:{number}:pages"


def ticket_sla(number: str) -> str:
    """Hash of a ticket's SLA alerts: mark label (50%, breach) -> JSON record."""
    return f"{PREFIX}:ticket:{number}:sla"


def ticket_audit(number: str) -> str:
    """List of a ticket's changes, oldest first (JSON entries: seq, event, at, by, note)."""
    return f"{PREFIX}:ticket:{number}:audit"


def open_emergency(account: str, host_id: str) -> str:
    """The number of the unresolved emergency ticket of a reseller's Host ID, if any."""
    return f"{PREFIX}:emergency:{account}:{host_id}"


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


def queue_state(name: str) -> str:
    """JSON snapshot of one queue (waiting callers, agents), written by the AMI consumer."""
    return f"{PREFIX}:queue:{name}"


def queue_day(name: str, day: str, what: str) -> str:
    """One queue's outcomes of a day: ``offered`` (set of Uniqueids), ``answered``
    and ``abandoned`` (hashes Uniqueid -> wait seconds). Idempotent per call, so
    several consumers of the same Asterisk count each call once."""
    return f"{PREFIX}:qday:{day}:{name}:{what}"


def user(name: str) -> str:
    """Hash of one dashboard account (role, password_hash, created)."""
    return f"{PREFIX}:user:{name}"


def user_tokens(name: str) -> str:
    """Set of the SHA-256 digests of one account's API tokens."""
    return f"{PREFIX}:user:{name}:tokens"


def user_sessions(name: str) -> str:
    """Set of the SHA-256 digests of one account's open browser sessions."""
    return f"{PREFIX}:user:{name}:sessions"


def api_token(digest: str) -> str:
    """The account an API token (by its SHA-256 digest) belongs to."""
    return f"{PREFIX}:token:{digest}"


def web_session(digest: str) -> str:
    """Hash of one signed-in browser session (by the SHA-256 digest of its id)."""
    return f"{PREFIX}:session:{digest}"


def signin_failures(kind: str, value: str) -> str:
    """Failed sign-ins of an account name or a client address (kind: user|addr)."""
    return f"{PREFIX}:signinfail:{kind}:{value}"


def lockouts_account(account: str) -> str:
    """Lockouts of an account number in the last day (doubles the next one)."""
    return f"{PREFIX}:lockouts:account:{account}"


def lockouts_caller(number: str) -> str:
    """Lockouts of a calling number in the last day (doubles the next one)."""
    return f"{PREFIX}:lockouts:caller:{number}"


def call_ticket(call_id: str) -> str:
    """The ticket a call opened (so a journal replay of the same call adds none)."""
    return f"{PREFIX}:call:{call_id}:ticket"


def ticket_alias(number: str) -> str:
    """The ticket a journal number turned out to name (the caller heard the journal one)."""
    return f"{PREFIX}:ticket:{number}:alias"


HELPDESK_OPEN = f"{PREFIX}:helpdesk:open:"  # the prefix of helpdesk_open(account, host_id)


def helpdesk_open(account: str, host_id: str) -> str:
    """Sorted set of a reseller's open helpdesk tickets for a Host ID, by creation time
    (an emergency call for that Host ID escalates the newest)."""
    return f"{HELPDESK_OPEN}{account}:{host_id}"


def helpdesk_inbound(idempotency_key: str) -> str:
    """What an inbound helpdesk event did, by its Idempotency-Key (JSON, expires): a
    replay is answered from it and changes nothing."""
    return f"{PREFIX}:helpdesk:inbound:{idempotency_key}"
