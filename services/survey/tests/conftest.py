"""Survey test fixtures: the service wired against real infrastructure (plugin `fixflow`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixflow_shared.testing.plugin import asgi_client, own_kafka, running_service
from survey.config import SurveySettings


@pytest.fixture(scope="session")
def kafka(fixflow_root: Path) -> Iterator[Any]:
    """A broker of survey's tests alone: in one pytest session every service's runtime consumes
    under its own group ids, and would otherwise react to the other services' test events."""
    yield from own_kafka(fixflow_root)


@pytest.fixture(scope="session")
async def survey_app(kafka: Any, make_database: Callable[[str], str], redis_url: str) -> AsyncIterator[Any]:
    async with running_service(
        "survey",
        SurveySettings,
        kafka=kafka,
        make_database=make_database,
        redis_url=redis_url,
        timer_poll_s=0.1,
        timer_reseed_s=1.0,  # the shared test Redis may be flushed by another session: recover fast
    ) as started:
        yield started


@pytest.fixture
async def client(survey_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(survey_app[1], "survey") as c:
        yield c
