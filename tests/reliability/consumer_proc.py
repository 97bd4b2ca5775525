"""A consumer group member in a process of its own, so a test can freeze it (SIGSTOP) mid-batch.

    consumer_proc.py <database url> <bootstrap> <group> <run> <label> <freeze at event n, -1 never>

It applies each TicketOpened of `run` (symptom "<run>:<n>") once through the inbox, recording an
effect row (event id, label). With a freeze index it stops itself right after applying event n,
before the batch's offsets are committed: a zombie whose partitions the group hands to another
member. It prints "refused <event id>" for each event whose inbox claim it lost (work another
member already applied) and logs aiokafka's warnings (a refused offset commit) to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from faststream.kafka import KafkaBroker
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from fixflow_shared import topics
from fixflow_shared.consumer import EventConsumer
from fixflow_shared.db import add_messaging_tables, make_engine, make_session_factory, new_metadata
from fixflow_shared.events import Envelope
from fixflow_shared.events.contracts.intake import TicketOpened
from fixflow_shared.uow import UnitOfWork

effects = Table(
    "test_zombie_effects",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("event_id", String(40)),
    Column("run", String(40)),
    Column("label", String(40)),
)


async def main(database_url: str, bootstrap: str, group: str, run: str, label: str, freeze_at: int) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    outbox, inbox = add_messaging_tables(new_metadata())
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(effects.metadata.create_all)
    sf = make_session_factory(engine)
    broker = KafkaBroker(bootstrap, log_level=logging.DEBUG)
    consumer = EventConsumer(broker, group_id=group, topics=(topics.INTAKE_TICKETS,), batch_max=20)

    @consumer.on(TicketOpened)
    async def apply(envelope: Envelope, event: TicketOpened) -> None:
        if not event.symptom.startswith(run + ":"):
            return  # other tests' tickets share the topic
        async with UnitOfWork(sf, outbox=outbox, inbox=inbox, source="/fixflow/test") as uow:
            if not await uow.claim(group, envelope):
                print(f"refused {envelope.id}", flush=True)
                return
            await uow.session.execute(insert(effects).values(event_id=envelope.id, run=run, label=label))
            await uow.commit()
        if int(event.symptom.split(":")[1]) == freeze_at:
            print(f"freezing after {envelope.id}", flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)  # resumes here on SIGCONT, with the rest of its batch

    await broker.start()
    print("started", flush=True)
    while True:
        await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6], int(sys.argv[6])))
