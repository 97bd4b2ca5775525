"""Preferences and recipients stored before the one phone rule are found again after it: the
migration moves their numbers to E.164 (the form intake sends)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from alembic import command

from fixflow_shared.db import TENANT_SETTING
from fixflow_shared.migrations import alembic_config, upgrade

pytestmark = pytest.mark.integration


async def test_phone_keys_move_to_e164_and_an_existing_e164_key_wins(make_database, fixflow_root):
    service = fixflow_root / "services" / "notify"
    url = await asyncio.to_thread(make_database, "notify")
    await asyncio.to_thread(command.downgrade, alembic_config(service, url), "0003")
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await conn.execute(f"SELECT set_config('{TENANT_SETTING}', 't1', false)")
        for recipient, opted_out in (
            ("13800138000", True),  # as notify used to keep it
            ("139 0013 9000", True),  # an old key whose E.164 form was saved since: that one wins
            ("+8613900139000", False),
            ("cust-1", True),  # ids are not numbers
        ):
            await conn.execute(
                "INSERT INTO preferences (tenant_id, recipient, opted_out) VALUES ('t1', $1, $2)", recipient, opted_out
            )
        await conn.execute(
            "INSERT INTO recipients (id, tenant_id, role, name, phone, locale) "
            "VALUES ('mgr-1', 't1', 'manager', 'Wang', '137-0013-7000', 'zh-CN')"
        )
        await asyncio.to_thread(upgrade, service, url)
        prefs = dict(await conn.fetch("SELECT recipient, opted_out FROM preferences ORDER BY recipient"))
        phone = await conn.fetchval("SELECT phone FROM recipients WHERE id = 'mgr-1'")
    finally:
        await conn.close()
    assert prefs == {
        "+8613800138000": True,
        "+8613900139000": False,
        "139 0013 9000": True,
        "cust-1": True,
    }
    assert phone == "+8613700137000"
