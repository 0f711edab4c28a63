"""The peer of the turnaround figure: a minimal line echo server (``python -m bench.echo PORT``).

Answers every line with one AGI-sized line, nothing else: what a round trip on
this loopback costs when the server does no work.
"""

from __future__ import annotations

import asyncio
import sys

REPLY = b'STREAM FILE ivr/main-menu ""\n'


async def _client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while await reader.readline():
        writer.write(REPLY)
    writer.close()


async def _main(port: int) -> None:
    server = await asyncio.start_server(_client, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_main(int(sys.argv[1])))
