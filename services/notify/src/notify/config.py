from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fixflow_shared.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore", populate_by_name=True)

    http_port: int = 8005

    # Email (SMTP).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_from: str = "service@fixflow.local"
    smtp_timeout_s: float = 10.0
    smtp_pool_size: int = 4

    # SMS over an HTTP gateway (see adapters/channels.py for the provider contract). Empty = no SMS.
    sms_primary_url: str | None = None
    sms_primary_token: str | None = None
    sms_failover_url: str | None = None
    sms_failover_token: str | None = None
    sms_sender: str = "Fixflow"
    # Customers' messages link to their page in the portal with a signed, expiring link
    # (FIXFLOW_PORTAL_LINK_SECRETS, shared with the portal). Empty = no links.
    portal_url: str | None = Field(
        None, description="where customers reach the portal, e.g. https://service.example.com"
    )
    portal_link_days: int = Field(14, ge=1, le=90, description="how long a link in a message opens its page")
    http_timeout_s: float = 5.0

    # Delivery: retries with exponential backoff and jitter, then failover, then dead letter.
    send_max_attempts: int = 3
    send_backoff_initial_s: float = 0.5
    send_backoff_max_s: float = 10.0
    dispatch_workers: int = 8
    consumer_members: int = 3  # members of the "notify" group in this process (see consumers.py)
    sweep_interval_s: float = 1.0
    lease_s: float = 60.0

    # Webhook targets: internal addresses (loopback, link-local, private) are refused unless listed here.
    webhook_allowed_networks: list[str] = Field(
        default_factory=list,
        description='JSON list of CIDRs webhooks may call besides public addresses, e.g. ["10.8.0.0/16"]',
    )

    # Per-tenant rate limit (messages per channel per minute), kept in Redis.
    rate_limit_per_minute: int = 6000
    rate_limits: dict[str, int] = Field(default_factory=dict, description='JSON {"<tenant>": <per minute>}')
