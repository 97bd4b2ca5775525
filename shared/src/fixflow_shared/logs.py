"""JSON logs (structlog) carrying trace ids, with phone numbers and emails masked."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace
from structlog.typing import Processor

from fixflow_shared.contacts import mask_pii  # the one masker: a***@example.com, +86 138****5678

__all__ = ["get_logger", "mask_pii", "setup_logging"]


def _mask_processor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for k, v in event_dict.items():
        if isinstance(v, str):
            event_dict[k] = mask_pii(v)
    return event_dict


def _trace_processor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict["trace_id"] = format(ctx.trace_id, "032x")
        event_dict["span_id"] = format(ctx.span_id, "016x")
    return event_dict


class _Stdout:
    """Whatever sys.stdout is at the time of writing (a test capturing output replaces it)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def setup_logging(service: str, level: str = "INFO") -> None:
    # Masking runs after the exception is formatted (its text may hold a phone number) and before the
    # trace ids are added (32 hex digits can contain a run that looks like one).
    stamp: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    shared: list[Processor] = [*stamp, _mask_processor, _trace_processor]
    structlog.configure(
        processors=[
            *stamp,
            structlog.processors.format_exc_info,
            _mask_processor,
            _trace_processor,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(_Stdout()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Library logs (uvicorn, aiokafka, faststream) through the same JSON renderer.
    handler = logging.StreamHandler(_Stdout())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,  # a library's traceback is masked too
                _mask_processor,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
