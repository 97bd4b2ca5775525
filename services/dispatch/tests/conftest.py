"""Dispatch test fixtures: the service wired against real infrastructure (plugin `fixflow`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from dispatch.config import DispatchSettings
from fixflow_shared.testing.services import service_fixtures

# Shared helpers of the integration tests, importable as `dispatch_test_helpers` (importlib mode
# does not put test folders on sys.path).
_spec = importlib.util.spec_from_file_location(
    "dispatch_test_helpers", Path(__file__).parent / "integration" / "_helpers.py"
)
assert _spec and _spec.loader
_helpers = importlib.util.module_from_spec(_spec)
sys.modules["dispatch_test_helpers"] = _helpers
_spec.loader.exec_module(_helpers)


kafka, service_app, dispatch_app, client = service_fixtures("dispatch", DispatchSettings)
