"""No event lost, none applied twice: outbox relay crashes, inbox deduplication, dead letters.

Runs against a real broker (its own, from the `kafka` fixture) and a real PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faststream.kafka import KafkaBroker
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, text

from fixflow_shared import topics
from fixflow_shared.consumer import EventConsumer
from fixflow_shared.db import add_messaging_tables, make_engine, make_session_factory, new_metadata
from fixflow_shared.events import Envelope, InvalidEnvelope, new_envelope
from fixflow_shared.events.contracts.intake import TicketOpened
from fixflow_shared.outbox import write_outbox
from fixflow_shared.testing import eventually
from fixflow_shared.testing.kafka import committed_offsets, consumed, end_offsets, publish
from fixflow_shared.uow import UnitOfWork

pytestmark = pytest.mark.integration
HERE = Path(__file__).parent

effects_md = MetaData()
effects = Table(
    "test_effects",
    effects_md,
    Column("id", Integer, primary_key=True),
    Column("event_id", String(40)),
    Column("run", String(40)),
)


@pytest.fixture(scope="module")
async def db(make_database):
    url = make_database("intake")  # any service schema has outbox + inbox
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(effects_md.create_all)
    yield url, engine
    with contextlib.suppress(TimeoutError):  # a connection a stopped consumer left busy must not hang the run
        await asyncio.wait_for(engine.dispose(), 10)


def opened_envelope(run: str, i: int) -> Envelope:
    ticket = f"T-{run}-{i % 17}"  # several events per key: order per key matters
    return new_envelope(
        TicketOpened(
            ticket_id=ticket,
            tenant_id="t1",
            kind="repair",
            channel="web",
            symptom=f"{run}:{i}",
            opened_at=datetime.now(UTC),
        ),
        source="/fixflow/test",
        subject=ticket,
        tenant="t1",
    )


async def read_topic(bootstrap: str, topic: str, want: set[str], timeout: float = 40) -> list[tuple[Envelope, int]]:
    """Every record of `topic` whose event id is in `want`, until all were seen (or time out)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"reader-{uuid.uuid4()}", auto_offset_reset="earliest"
    )
    await consumer.start()
    seen: list[tuple[Envelope, int]] = []
    try:

        async def drain() -> None:
            async for rec in consumer:
                try:
                    env = Envelope.from_kafka(rec.headers, rec.value)
                except InvalidEnvelope:
                    continue  # other tests' poison messages
                if env.id in want:
                    seen.append((env, rec.partition))
                    if want <= {e.id for e, _ in seen}:
                        return

        await asyncio.wait_for(drain(), timeout)
    finally:
        await consumer.stop()
    return seen


async def test_relay_killed_mid_batch_loses_nothing_and_inbox_absorbs_duplicates(db, kafka):
    url, engine = db
    run = uuid.uuid4().hex[:8]
    outbox, inbox = add_messaging_tables(new_metadata())
    envelopes = [opened_envelope(run, i) for i in range(400)]
    sf = make_session_factory(engine)
    async with sf() as session, session.begin():
        await write_outbox(session, outbox, envelopes, {e.id: topics.INTAKE_TICKETS for e in envelopes})

    # First relay dies (os._exit) right after the broker acked its 3rd batch, before marking it.
    crashed = subprocess.run([sys.executable, str(HERE / "relay_proc.py"), url, kafka.bootstrap, "3"], timeout=120)
    assert crashed.returncode == 9
    async with engine.connect() as conn:
        unsent = await conn.scalar(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))
    assert 0 < unsent < 400, "the crash must leave work for the second relay"

    # A second relay finishes the job; it is killed -9 once everything is marked.
    second = subprocess.Popen([sys.executable, str(HERE / "relay_proc.py"), url, kafka.bootstrap, "0"])
    try:

        async def unsent_rows() -> int:
            async with engine.connect() as conn:
                return await conn.scalar(
                    select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
                )

        await eventually(unsent_rows, lambda n: n == 0, what="the second relay published the rest")
    finally:
        second.kill()
        second.wait()

    records = await read_topic(kafka.bootstrap, topics.INTAKE_TICKETS, {e.id for e in envelopes})
    counts = Counter(e.id for e, _ in records)
    assert set(counts) == {e.id for e in envelopes}, "every event arrives"
    assert max(counts.values()) == 2, "the batch published before the crash arrives twice"

    # Per key, first arrivals keep the order in which the events were written.
    order = {e.id: i for i, e in enumerate(envelopes)}
    firsts: dict[str, list[int]] = {}
    seen: set[str] = set()
    for env, _ in records:
        if env.id not in seen:
            seen.add(env.id)
            firsts.setdefault(env.subject, []).append(order[env.id])
    assert all(v == sorted(v) for v in firsts.values())

    # A consumer with an inbox applies each event exactly once despite the duplicates.
    broker = KafkaBroker(kafka.bootstrap, log_level=logging.DEBUG)
    consumer = EventConsumer(broker, group_id=f"effects-{run}", topics=(topics.INTAKE_TICKETS,))

    @consumer.on(TicketOpened)
    async def apply(envelope: Envelope, event: TicketOpened) -> None:
        if not event.symptom.startswith(run + ":"):
            return  # other tests' tickets share the topic
        async with UnitOfWork(sf, outbox=outbox, inbox=inbox, source="/fixflow/test") as uow:
            if not await uow.claim(f"effects-{run}", envelope):
                return
            await uow.session.execute(insert(effects).values(event_id=envelope.id, run=run))
            await uow.commit()

    # Everything the relays published, duplicates included, lies before the topic's end offsets now.
    last_records = await end_offsets(kafka.bootstrap, topics.INTAKE_TICKETS)
    await broker.start()
    try:
        # The consumer finished every record up to there: each duplicate had its chance to apply.
        await consumed(kafka.bootstrap, f"effects-{run}", *last_records, timeout=60)
        async with engine.connect() as conn:
            rows = (await conn.execute(select(effects.c.event_id).where(effects.c.run == run))).scalars().all()
    finally:
        await broker.stop()
    assert len(rows) == 400 and len(set(rows)) == 400


def _stopped(pid: int) -> bool:
    """The process is stopped (SIGSTOP): state T in /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] == "T"


async def test_frozen_relay_loses_the_outbox_lock_and_its_resumed_mark_is_refused(db, kafka, tmp_path):
    """A relay frozen mid-batch (SIGSTOP after the broker acked, before the rows are marked) holds
    the outbox lock in an open transaction. Its lease (idle_in_transaction_session_timeout) ends
    the session, so a second relay takes over; the resumed zombie's mark is refused by the dead
    session, and every event arrives (the zombie's batch twice, which inboxes absorb)."""
    url, engine = db
    run = uuid.uuid4().hex[:8]
    outbox, _ = add_messaging_tables(new_metadata())
    envelopes = [opened_envelope(run, i) for i in range(200)]
    async with make_session_factory(engine)() as session, session.begin():
        await write_outbox(session, outbox, envelopes, {e.id: topics.INTAKE_TICKETS for e in envelopes})

    async def unsent_rows() -> int:
        async with engine.connect() as conn:
            return await conn.scalar(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))

    relay = [sys.executable, str(HERE / "relay_proc.py"), url, kafka.bootstrap]
    zombie_log = tmp_path / "zombie.log"
    with zombie_log.open("w") as out:
        zombie = subprocess.Popen([*relay, "1", "freeze", "2"], stdout=out, stderr=subprocess.STDOUT)
    survivor = None
    try:
        await eventually(lambda: _stopped(zombie.pid), what="the first relay froze mid-batch", timeout=60)
        assert await unsent_rows() == 200, "the frozen batch is not marked"
        survivor = subprocess.Popen([*relay, "0", "crash", "2"])
        # Without the lease the zombie's transaction, and its lock, would last as long as the freeze.
        await eventually(unsent_rows, lambda n: n == 0, what="the second relay took over and published all", timeout=60)

        zombie.send_signal(signal.SIGCONT)
        await eventually(
            lambda: "idle-in-transaction timeout" in zombie_log.read_text(),
            what="the resumed relay's mark was refused (its session ended by the lease)",
            timeout=30,
        )
        assert zombie.poll() is None, "the resumed relay goes on (and finds nothing to relay)"
    finally:
        for p in (zombie, survivor):
            if p is not None:
                p.send_signal(signal.SIGCONT)
                p.kill()
                p.wait()

    records = await read_topic(kafka.bootstrap, topics.INTAKE_TICKETS, {e.id for e in envelopes})
    counts = Counter(e.id for e, _ in records)
    assert set(counts) == {e.id for e in envelopes}, "every event arrives"
    assert sorted(Counter(counts.values()).items()) == [(1, 150), (2, 50)], "only the zombie's batch twice"


async def test_frozen_consumer_is_a_zombie_whose_stale_work_and_offset_commit_are_refused(db, kafka, tmp_path):
    """A member frozen mid-batch (after applying an event, before the batch's offsets are
    committed) past its session timeout loses its partitions; another member redoes the batch
    and its inbox refuses what the zombie already applied. Resumed, the zombie finishes its stale
    batch (each claim refused: the other member applied them) and its offset commit is refused by
    the group coordinator (stale generation), so the group's offsets never move back."""
    url, engine = db
    run = uuid.uuid4().hex[:8]
    group = f"zombie-{run}"
    envelopes = [opened_envelope(run, i) for i in range(60)]
    sent = await publish(kafka.bootstrap, *envelopes)
    member = [sys.executable, str(HERE / "consumer_proc.py"), url, kafka.bootstrap, group, run]
    logs = {name: (tmp_path / f"{name}.out", tmp_path / f"{name}.err") for name in ("zombie", "survivor")}

    def spawn(name: str, freeze_at: int) -> subprocess.Popen[bytes]:
        out, err = logs[name]
        with out.open("w") as o, err.open("w") as e:
            return subprocess.Popen([*member, name, str(freeze_at)], stdout=o, stderr=e)

    def log_of(name: str, which: int = 0) -> str:
        return logs[name][which].read_text()

    zombie = spawn("zombie", 10)
    survivor = None
    try:
        await eventually(lambda: _stopped(zombie.pid), what="the first member froze mid-batch", timeout=90)
        survivor = spawn("survivor", -1)
        await consumed(kafka.bootstrap, group, *sent, timeout=90)  # the survivor finished every record
        assert f"refused {envelopes[10].id}" in log_of("survivor"), "the zombie's applied event is not applied again"
        before = await committed_offsets(kafka.bootstrap, group)

        zombie.send_signal(signal.SIGCONT)
        try:
            await eventually(
                lambda: "OffsetCommit failed" in log_of("zombie", 1) or "CommitFailedError" in log_of("zombie", 1),
                what="the resumed zombie's offset commit was refused",
                timeout=30,
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the zombie's log:\n{log_of('zombie', 1)[-3000:]}") from None
        after = await committed_offsets(kafka.bootstrap, group)
        assert all(after[tp] >= offset for tp, offset in before.items()), "no committed offset moved back"
    finally:
        for p in (zombie, survivor):
            if p is not None:
                p.send_signal(signal.SIGCONT)
                p.kill()
                p.wait()

    async with engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT event_id, label FROM test_zombie_effects WHERE run = :r"), {"r": run})
        ).all()
    counts = Counter(event_id for event_id, _ in rows)
    assert set(counts) == {e.id for e in envelopes} and set(counts.values()) == {1}, "each event applied once"
    assert {label for _, label in rows} == {"zombie", "survivor"}


@pytest.mark.parametrize("batch_max", [0, 25], ids=["per-message", "batched"])
async def test_poison_message_goes_to_dlq_and_the_partition_moves_on(kafka, batch_max):
    run = uuid.uuid4().hex[:8]
    key = f"T-poison-{run}".encode()
    good = opened_envelope(run, 1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        # Same key = same partition: the poison message sits right before the good one.
        await producer.send_and_wait(topics.INTAKE_TICKETS, b"{not json", key=key, headers=good.headers()[:3])
        await producer.send_and_wait(topics.INTAKE_TICKETS, good.body(), key=key, headers=good.headers())
    finally:
        await producer.stop()

    handled: list[str] = []
    broker = KafkaBroker(kafka.bootstrap, log_level=logging.DEBUG)
    consumer = EventConsumer(broker, group_id=f"poison-{run}", topics=(topics.INTAKE_TICKETS,), batch_max=batch_max)

    @consumer.on(TicketOpened)
    async def apply(envelope: Envelope, event: TicketOpened) -> None:
        handled.append(envelope.id)

    await broker.start()
    try:
        await eventually(lambda: good.id in handled, what="the message after the poison one processed")
    finally:
        await broker.stop()
    assert good.id in handled, "the message after the poison one was processed"

    dlq = AIOKafkaConsumer(
        topics.dlq(topics.INTAKE_TICKETS),
        bootstrap_servers=kafka.bootstrap,
        group_id=f"d-{run}",
        auto_offset_reset="earliest",
    )
    await dlq.start()
    try:

        async def find():
            async for rec in dlq:
                h = {k: v.decode() for k, v in rec.headers}
                if rec.key == key and h.get("x-dlq-consumer-group") == f"poison-{run}":
                    return rec, h

        rec, h = await asyncio.wait_for(find(), 20)
    finally:
        await dlq.stop()
    assert rec.value == b"{not json"
    assert "missing CloudEvents headers" in h["x-dlq-reason"]
    assert h["x-original-topic"] == topics.INTAKE_TICKETS


@pytest.mark.parametrize("batch_max", [0, 25], ids=["per-message", "batched"])
async def test_failed_then_succeeded_then_restarted_never_loses_the_failed_message(kafka, batch_max):
    """FastStream issue 2618: a failed message must be retried or dead-lettered, never skipped."""
    run = uuid.uuid4().hex[:8]
    failing, later, marker = opened_envelope(run, 1), opened_envelope(run, 2), opened_envelope(run, 3)
    key = b"same-key-" + run.encode()
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    await producer.start()
    for env in (failing, later):
        await producer.send_and_wait(topics.INTAKE_TICKETS, env.body(), key=key, headers=env.headers())
    await producer.stop()

    attempts: Counter[str] = Counter()
    done: list[str] = []

    async def run_consumer(fail: bool, until: set[str]) -> None:
        broker = KafkaBroker(kafka.bootstrap, log_level=logging.DEBUG)
        consumer = EventConsumer(
            broker,
            group_id=f"ff-{run}",
            topics=(topics.INTAKE_TICKETS,),
            max_attempts=3,
            backoff_initial_s=0.01,
            batch_max=batch_max,
        )

        @consumer.on(TicketOpened)
        async def apply(envelope: Envelope, event: TicketOpened) -> None:
            if envelope.id not in (failing.id, later.id, marker.id):
                return
            attempts[envelope.id] += 1
            if fail and envelope.id == failing.id:
                raise ConnectionError("downstream unavailable")
            done.append(envelope.id)

        await broker.start()
        try:
            await eventually(
                lambda: until <= set(done) | ({failing.id} if fail and attempts[failing.id] >= 3 else set()),
                what=f"{until} handled",
            )
        finally:
            await broker.stop()

    await run_consumer(fail=True, until={later.id})
    assert attempts[failing.id] == 3 and done == [later.id]
    # Restart: the committed offset is past both, because the failed one was dead-lettered. A marker
    # on the same key (same partition, after both) is handled by the restarted consumer: whatever it
    # would replay comes before it.
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    await producer.start()
    await producer.send_and_wait(topics.INTAKE_TICKETS, marker.body(), key=key, headers=marker.headers())
    await producer.stop()
    await run_consumer(fail=False, until={marker.id})
    assert done == [later.id, marker.id], "nothing is replayed after restart"
    assert attempts[failing.id] == 3
    records = await read_topic(kafka.bootstrap, topics.dlq(topics.INTAKE_TICKETS), {failing.id})
    assert [e.id for e, _ in records] == [failing.id], "the failed message is in the DLQ, not lost"


async def test_batch_consumer_falls_back_to_one_by_one_and_dead_letters_only_the_bad_event(kafka):
    """Batch mode: many events per handler call; a batch that fails is replayed one event at a time,
    so the good events of it are applied once and only the failing one goes to the dead letters."""
    run = uuid.uuid4().hex[:8]
    key = f"T-batch-{run}".encode()
    envs = [opened_envelope(run, i) for i in range(40)]
    failing = envs[17]
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for i, env in enumerate(envs):  # one key: one partition, in this order
            if i == 30:
                await producer.send(topics.INTAKE_TICKETS, b"{not json", key=key, headers=env.headers()[:3])
            last = await producer.send(topics.INTAKE_TICKETS, env.body(), key=key, headers=env.headers())
        await producer.flush()
        last_record = await last
    finally:
        await producer.stop()

    applied: list[str] = []
    batch_sizes: list[int] = []
    broker = KafkaBroker(kafka.bootstrap, log_level=logging.DEBUG)
    consumer = EventConsumer(
        broker,
        group_id=f"batch-{run}",
        topics=(topics.INTAKE_TICKETS,),
        batch_max=25,
        max_attempts=2,
        backoff_initial_s=0.01,
    )
    mine = {e.id for e in envs}

    @consumer.on(TicketOpened)
    async def apply(envelope: Envelope, event: TicketOpened) -> None:
        if envelope.id == failing.id:
            raise ValueError("cannot apply this one")
        if envelope.id in mine:
            applied.append(envelope.id)

    @consumer.on_batch
    async def apply_all(batch: list[tuple[Envelope, TicketOpened]]) -> None:
        ours = [e.id for e, _ in batch if e.id in mine]
        batch_sizes.append(len(ours))
        if failing.id in ours:
            raise ValueError("cannot apply this batch")
        applied.extend(ours)

    await broker.start()
    try:
        # Every record up to the last one was finished (offsets are committed only then): nothing
        # more of ours can arrive.
        await consumed(kafka.bootstrap, f"batch-{run}", last_record)
    finally:
        await broker.stop()

    assert applied == [e.id for e in envs if e.id != failing.id], "every good event once, in order"
    assert max(batch_sizes) > 1, f"events were handled in batches: {batch_sizes}"
    dead = await read_topic(kafka.bootstrap, topics.dlq(topics.INTAKE_TICKETS), {failing.id})
    assert [e.id for e, _ in dead] == [failing.id]


async def test_inbox_claims_an_event_once_however_its_id_is_spelled(db):
    """ce_id is any UUID spelling (a partner may send capitals); the inbox column holds UUIDs."""
    import dataclasses

    _, engine = db
    outbox, inbox = add_messaging_tables(new_metadata())
    sf = make_session_factory(engine)
    env = opened_envelope(uuid.uuid4().hex[:8], 1)
    shouting = dataclasses.replace(env, id=env.id.upper())
    other = opened_envelope(uuid.uuid4().hex[:8], 2)
    async with UnitOfWork(sf, outbox=outbox, inbox=inbox, source="/fixflow/test") as uow:
        assert await uow.claim_many("spelling", [shouting]) == {shouting.id}, "first sight, named as sent"
        assert await uow.claim_many("spelling", [env, other]) == {other.id}, "same event, other spelling"
        assert not await uow.claim("spelling", env)
        await uow.commit()
