"""Opening a ticket in two Redis round trips: a snapshot, then one script that checks it
and writes.

Round trip 1 (``OpeningScript.snapshot``) reads what the decision needs: the Host
ID's open-emergency index and the ticket it names, the newest open helpdesk ticket
for the Host ID, and the next free number of the counter (looked at, not taken).
Python decides with the pure rules (join the open emergency, escalate the helpdesk
ticket, or open a new one) and encodes every write with the one codec. Round trip
2 (``OpeningScript.commit``) runs the same script, which takes the snapshot again:
if nothing the decision was made on has moved it applies the writes (the counter
moves to the new number among them), all at once; otherwise it writes nothing and
answers the fresh snapshot, and the decision is made again on it (one more round
trip, only when two calls race).

The writes are ``Writes``: commands decided in Python, which the script runs in
order, or which a MULTI/EXEC pipeline queues (the paths that still WATCH). Every
key is passed to the script as a key; the only names the script builds are
ticket hashes, from the ticket prefix it is given and numbers Redis holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from ivr.store import keys

# KEYS[1] the number counter; KEYS[2] the Host ID's open-emergency index; KEYS[3] its
# open helpdesk tickets; KEYS[4..] the keys of the writes, in their order.
# ARGV[1] the ticket hash prefix; ARGV[2] the counter's offset (its first number - 1);
# ARGV[3] "1" to read the two indexes (an emergency); ARGV[4] "commit" or "read".
# For a commit, ARGV[5..9] the snapshot decided on (index's number, its hash's digest,
# the newest helpdesk ticket, its digest, the new number or "" when joining), ARGV[10]
# the call id of a new ticket ("" none), then each write as: command, key count,
# argument count, arguments. A commit sent again after its reply was lost (the client
# retries once on a dropped connection) finds the new number's ticket already opened
# by its call and answers {"written"} without writing it twice.
# Answers {"snapshot"|"moved", index's number, digest, hash, newest, digest, hash,
# next free number}, or {"written"}.
_SCRIPT = """
local prefix, offset = ARGV[1], tonumber(ARGV[2])

local function read(number)
  if number == '' then return {}, '' end
  local flat = redis.call('HGETALL', prefix .. number)
  local parts = {}
  for i = 1, #flat, 2 do
    parts[#parts + 1] = #flat[i] .. ':' .. flat[i] .. #flat[i + 1] .. ':' .. flat[i + 1]
  end
  table.sort(parts)
  return flat, redis.sha1hex(table.concat(parts))
end

local current, newest = '', ''
if ARGV[3] == '1' then
  current = redis.call('GET', KEYS[2]) or ''
  newest = redis.call('ZREVRANGE', KEYS[3], 0, 0)[1] or ''
end
local current_hash, current_digest = read(current)
local newest_hash, newest_digest = read(newest)
local n = tonumber(redis.call('GET', KEYS[1]) or '0') + offset
local number
repeat
  n = n + 1
  number = string.format('%d', n)
until redis.call('EXISTS', prefix .. number) == 0

local snapshot = {'snapshot', current, current_digest, current_hash,
                  newest, newest_digest, newest_hash, number}
if ARGV[4] ~= 'commit' then return snapshot end
if ARGV[9] ~= '' and ARGV[10] ~= ''
    and redis.call('HGET', prefix .. ARGV[9], 'call_id') == ARGV[10] then
  return {'written'}
end
if ARGV[5] ~= current or ARGV[6] ~= current_digest or ARGV[7] ~= newest
    or ARGV[8] ~= newest_digest or (ARGV[9] ~= '' and ARGV[9] ~= number) then
  snapshot[1] = 'moved'
  return snapshot
end
local k, a = 4, 11
while a <= #ARGV do
  local command = {ARGV[a]}
  local key_count, arg_count = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  for _ = 1, key_count do
    command[#command + 1] = KEYS[k]
    k = k + 1
  end
  for i = 1, arg_count do command[#command + 1] = ARGV[a + 2 + i] end
  a = a + 3 + arg_count
  redis.call(unpack(command))
end
return {'written'}
"""


@dataclass
class Writes:
    """Redis writes decided in Python, applied together by the opening script or a
    MULTI/EXEC pipeline: (command, keys, arguments), in order."""

    commands: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = field(default_factory=list)

    def hset(self, key: str, mapping: Mapping[str, str]) -> None:
        pairs = [part for name, value in mapping.items() for part in (name, value)]
        self.commands.append(("HSET", (key,), tuple(pairs)))

    def zadd(self, key: str, mapping: Mapping[str, float]) -> None:
        pairs = [part for member, score in mapping.items() for part in (repr(score), member)]
        self.commands.append(("ZADD", (key,), tuple(pairs)))

    def set(self, key: str, value: str, ex: int | None = None) -> None:
        expiry = ("EX", str(ex)) if ex is not None else ()
        self.commands.append(("SET", (key,), (value, *expiry)))

    def delete(self, key: str) -> None:
        self.commands.append(("DEL", (key,), ()))

    def rpush(self, key: str, value: str) -> None:
        self.commands.append(("RPUSH", (key,), (value,)))

    def xadd(self, key: str, fields: Mapping[str, str]) -> None:
        pairs = [part for name, value in fields.items() for part in (name, value)]
        self.commands.append(("XADD", (key,), ("*", *pairs)))

    def publish(self, channel: str, message: str) -> None:
        self.commands.append(("PUBLISH", (), (channel, message)))

    def queue_on(self, pipe: Pipeline) -> None:
        """Queue every write on a pipeline (after its MULTI)."""
        for name, command_keys, args in self.commands:
            pipe.execute_command(name, *command_keys, *args)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What opening a ticket decides on, as Redis held it in one instant."""

    current: str  # the number the Host ID's open-emergency index names ("" none)
    current_hash: dict[str, str]  # that ticket's hash ({} none)
    newest: str  # the Host ID's newest open helpdesk ticket ("" none)
    newest_hash: dict[str, str]
    number: str  # the counter's next number that names no ticket
    digests: tuple[str, str]  # of the two hashes: the commit's check that they stayed


@dataclass(frozen=True, slots=True)
class Indexes:
    """The indexes a new ticket's call looks in: the Host ID's open emergency and its
    open helpdesk tickets (read only for an emergency: only an emergency joins)."""

    open_emergency: str
    helpdesk_open: str
    emergency: bool

    @property
    def keys(self) -> tuple[str, str]:
        return (self.open_emergency, self.helpdesk_open)

    @property
    def read(self) -> str:
        return "1" if self.emergency else "0"


def _hash(flat: list[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _snapshot(reply: list[object]) -> Snapshot:
    current, current_digest, current_hash, newest, newest_digest, newest_hash, number = reply[1:]
    return Snapshot(
        current=cast(str, current),
        current_hash=_hash(cast(list[str], current_hash)),
        newest=cast(str, newest),
        newest_hash=_hash(cast(list[str], newest_hash)),
        number=cast(str, number),
        digests=(cast(str, current_digest), cast(str, newest_digest)),
    )


class OpeningScript:
    """The opening script on one Redis (EVALSHA; loaded again if Redis lost it)."""

    def __init__(self, redis: Redis, first_number: int) -> None:
        self._script = redis.register_script(_SCRIPT)
        self._offset = str(first_number - 1)

    async def snapshot(self, indexes: Indexes) -> Snapshot:
        """Round trip 1: the indexes (an emergency's) and the next free number."""
        reply = await self._script(
            keys=[keys.TICKET_SEQUENCE, *indexes.keys],
            args=[keys.ticket(""), self._offset, indexes.read, "read"],
        )
        return _snapshot(cast(list[object], reply))

    async def commit(
        self, indexes: Indexes, seen: Snapshot, number: str, writes: Writes, call_id: str = ""
    ) -> Snapshot | None:
        """Round trip 2: ``writes`` if Redis still holds ``seen`` (and ``number`` is still
        the next free one; "" when no number is taken). None when written, else the
        snapshot that moved. With ``call_id``, a ticket ``number`` that this call already
        opened (the same commit, retried after a lost reply) counts as written."""
        write_keys: list[str] = []
        write_args: list[str] = []
        for name, command_keys, args in writes.commands:
            write_keys += command_keys
            write_args += [name, str(len(command_keys)), str(len(args)), *args]
        reply = cast(
            list[object],
            await self._script(
                keys=[keys.TICKET_SEQUENCE, *indexes.keys, *write_keys],
                args=[
                    keys.ticket(""), self._offset, indexes.read, "commit",
                    seen.current, seen.digests[0], seen.newest, seen.digests[1], number,
                    call_id, *write_args,
                ],
            ),
        )  # fmt: skip
        return None if reply[0] == "written" else _snapshot(reply)
