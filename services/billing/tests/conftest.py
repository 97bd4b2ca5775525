"""Billing test fixtures: the service wired against real infrastructure (plugin `fixflow`)."""

from billing.config import BillingSettings
from fixflow_shared.testing.services import service_fixtures

kafka, service_app, billing_app, client = service_fixtures("billing", BillingSettings)
