"""`python -m insight [serve|migrate|rebuild [--force]]`"""

from __future__ import annotations

import asyncio
import sys

from fixflow_shared.cli import run_service
from insight.config import InsightSettings


async def _rebuild(force: bool) -> int:
    from insight.bootstrap import build
    from insight.service_layer.rebuild import GroupActive, rebuild

    settings = InsightSettings(run_consumers=False, run_relay=True, run_timers=False)  # type: ignore[call-arg]
    runtime, _ = build(settings)
    await runtime.start()  # the relay publishes alerts a rebuild may raise
    try:
        result = await rebuild(runtime, batch=settings.rebuild_batch, force=force)
    except GroupActive as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        await runtime.stop()
    print(
        f"rebuilt from {result.events} events in {result.seconds:.1f} s ({result.per_second:,.0f} events/s); "
        f"{result.skipped} skipped"
    )
    if result.trimmed:
        print(f"warning: retention deleted the start of {len(result.trimmed)} partitions: figures before are partial")
    return 0


def main() -> None:
    if sys.argv[1:2] == ["rebuild"]:
        sys.exit(asyncio.run(_rebuild(force="--force" in sys.argv[2:])))
    run_service("insight", InsightSettings)


if __name__ == "__main__":
    main()
