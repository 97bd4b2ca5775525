"""Dispatch's use cases, one module per feature: load, ask the domain (and the optimiser), save
with the events in one unit of work.

Public functions are use cases: each is handed an unopened unit of work (`uow=runtime.uow()`), opens
it and commits it (docs/adr/0010-where-a-unit-of-work-opens.md). Those that consume an event claim
it in the inbox in that same unit of work, so the claim, the state change and the events commit
together. The `_`-prefixed steps run inside the unit of work their caller opened.
"""
