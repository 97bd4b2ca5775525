"""Wiring: the one place that builds notify from its settings."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from fixflow_shared.clock import Clock
from fixflow_shared.runtime import ServiceRuntime
from fixflow_shared.timers import DueTimerWheel
from notify import SERVICE, views
from notify.adapters.channels import HttpSmsGateway, Outgoing, Provider, SignedWebhook, SmtpEmail
from notify.adapters.orm import metadata
from notify.adapters.ratelimit import TenantRateLimiter
from notify.config import NotifySettings
from notify.domain import webhook_targets
from notify.domain.model import Channel
from notify.domain.portal_links import PortalLinks
from notify.entrypoints.consumers import register_consumers
from notify.entrypoints.routes import deliveries, preferences, sign_in_codes, templates
from notify.service_layer.dispatcher import Dispatcher


def build(
    settings: NotifySettings | None = None,
    *,
    span_processors: tuple[SpanProcessor, ...] = (),
    clock: Clock | None = None,
    providers: dict[Channel, list[Provider]] | None = None,
) -> tuple[ServiceRuntime, FastAPI]:
    """`providers` replaces the channel adapters built from settings (tests, benchmarks)."""
    settings = settings or NotifySettings()  # type: ignore[call-arg]
    runtime = ServiceRuntime(
        name=SERVICE, settings=settings, metadata=metadata, span_processors=span_processors, clock=clock
    )
    http = httpx.AsyncClient(timeout=settings.http_timeout_s)
    smtp = SmtpEmail(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        timeout_s=settings.smtp_timeout_s,
        pool_size=settings.smtp_pool_size,
    )

    async def webhook_secret(msg: Outgoing) -> str | None:
        return await views.webhook_secret(uow=runtime.uow(), tenant_id=msg.tenant_id, delivery_id=msg.delivery_id)

    sms: list[Provider] = []
    if settings.sms_primary_url:
        sms.append(
            HttpSmsGateway(
                name="sms-primary",
                base_url=settings.sms_primary_url,
                token=settings.sms_primary_token,
                sender=settings.sms_sender,
                client=http,
            )
        )
    if settings.sms_failover_url:
        sms.append(
            HttpSmsGateway(
                name="sms-failover",
                base_url=settings.sms_failover_url,
                token=settings.sms_failover_token,
                sender=settings.sms_sender,
                client=http,
            )
        )
    default_providers: dict[Channel, list[Provider]] = {
        Channel.EMAIL: [smtp],
        Channel.SMS: sms,
        Channel.WEBHOOK: [
            SignedWebhook(
                client=http,
                secret_of=webhook_secret,
                production=settings.environment == "production",
                allowed_networks=webhook_targets.networks(settings.webhook_allowed_networks),
            )
        ],
    }
    dispatcher = Dispatcher(
        uow_factory=runtime.uow,
        providers={**default_providers, **(providers or {})},
        limiter=TenantRateLimiter(
            runtime.redis, default_per_minute=settings.rate_limit_per_minute, per_tenant=settings.rate_limits
        ),
        wheel=DueTimerWheel(runtime.redis, "notify:deferred"),
        workers=settings.dispatch_workers,
        max_attempts=settings.send_max_attempts,
        backoff_initial_s=settings.send_backoff_initial_s,
        backoff_max_s=settings.send_backoff_max_s,
        sweep_interval_s=settings.sweep_interval_s,
        lease_s=settings.lease_s,
        clock=runtime.clock,
    )
    links = None
    link_keys = settings.portal_link_keys()
    if settings.portal_url and link_keys is not None:
        links = PortalLinks(settings.portal_url, [link_keys.signing_key], timedelta(days=settings.portal_link_days))
    register_consumers(runtime, dispatcher, members=settings.consumer_members, links=links)

    async def run_dispatcher() -> None:
        try:
            await dispatcher.run()
        finally:
            with contextlib.suppress(Exception):
                await smtp.close()
            with contextlib.suppress(Exception):
                await http.aclose()

    runtime.background(run_dispatcher)
    app = runtime.create_app(
        title="Fixflow notify",
        description="Templates, channels, preferences, reliable delivery",
        routers=[deliveries.router, templates.router, preferences.router, sign_in_codes.router],
    )
    app.state.dispatcher = dispatcher
    runtime.dispatcher = dispatcher  # type: ignore[attr-defined]
    return runtime, app
