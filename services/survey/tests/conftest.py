"""Survey test fixtures: the service wired against real infrastructure (plugin `fixflow`)."""

from fixflow_shared.testing.services import service_fixtures
from survey.config import SurveySettings

kafka, service_app, survey_app, client = service_fixtures(
    "survey",
    SurveySettings,
    timer_poll_s=0.1,
    timer_reseed_s=1.0,  # the shared test Redis may be flushed by another session: recover fast
)
