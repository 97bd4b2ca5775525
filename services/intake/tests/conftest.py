"""Intake test fixtures: the service wired against real infrastructure (plugin `fixflow`)."""

from fixflow_shared.testing.services import service_fixtures
from intake.config import IntakeSettings

kafka, service_app, intake_app, client = service_fixtures("intake", IntakeSettings)
