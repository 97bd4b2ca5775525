"""One module per publishing service. A service owns (and only it edits) its own module."""

from fixflow_shared.events.contracts import billing, dispatch, insight, intake, notify, survey

__all__ = ["billing", "dispatch", "insight", "intake", "notify", "survey"]
