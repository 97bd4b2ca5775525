"""A relay in a process of its own, so a test can kill it (optionally it dies by itself with
os._exit after N published-but-unmarked batches: the worst moment for a crash), or freeze it
there (`freeze`: it SIGSTOPs itself, holding the outbox lock mid-transaction).

    relay_proc.py <database url> <bootstrap> <after N batches, 0 never> [crash|freeze] [lease s]
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from fixflow_shared.db import add_messaging_tables, make_engine, new_metadata
from fixflow_shared.outbox import OutboxRelay


async def main(database_url: str, bootstrap: str, crash_after_batches: int, how: str, lease_s: float) -> None:
    outbox, _ = add_messaging_tables(new_metadata())
    relay = OutboxRelay(
        engine=make_engine(database_url),
        outbox=outbox,
        bootstrap_servers=bootstrap,
        service="reliability",
        batch_size=50,
        poll_interval_s=0.05,
        lease_s=lease_s,
    )
    batches = 0

    def crash(_: int) -> None:
        nonlocal batches
        batches += 1
        if crash_after_batches and batches == crash_after_batches:
            if how == "freeze":
                os.kill(os.getpid(), signal.SIGSTOP)  # resumes here on SIGCONT, then marks the batch
            else:
                os._exit(9)

    relay.after_publish_hook = crash
    await relay.start()
    while True:
        await asyncio.sleep(3600)


if __name__ == "__main__":
    how = sys.argv[4] if len(sys.argv) > 4 else "crash"
    asyncio.run(
        main(sys.argv[1], sys.argv[2], int(sys.argv[3]), how, float(sys.argv[5]) if len(sys.argv) > 5 else 20.0)
    )
