"""structlog set-up: JSON lines off a terminal, per-message context, and CPR numbers and tokens redacted everywhere."""

import logging
import re
import sys
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

import structlog

# Ten digits, optionally DDMMYY-SSSS, not embedded in a longer digit run (so ids and øre amounts survive).
_CPR = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")
CPR_MASK = "<cpr>"
# A token in a URL's query (the representative's mailed link, OAuth redirects), and any compact JWS or JWE, whose
# protected header always begins `{"` (`eyJ` in base64url): an access log line or an error then holds no token.
_TOKEN_PARAMETER = re.compile(r"(?i)([?&;](?:token|access_token|id_token|refresh_token|code)=)[^&;#\s\"']+")
_COMPACT_JOSE = re.compile(r"eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){2,4}")
TOKEN_MASK = "<token>"


def redact(value: Any) -> Any:
    """Mask every CPR number and token in a string, or in the strings inside a mapping or sequence."""
    if isinstance(value, str):
        masked = _COMPACT_JOSE.sub(TOKEN_MASK, _TOKEN_PARAMETER.sub(rf"\1{TOKEN_MASK}", value))
        return _CPR.sub(CPR_MASK, masked)
    if isinstance(value, Mapping):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(item) for item in value)
    return value


def _redact_processor(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return {key: redact(value) if key != "timestamp" else value for key, value in event_dict.items()}


def configure_logging(service: str, *, json: bool | None = None, level: str = "INFO") -> None:
    """Route structlog and the standard library (aiokafka, FastStream, uvicorn) through one redacting chain."""
    if json is None:
        json = not sys.stderr.isatty()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _redact_processor,
    ]
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for chatty in ("httpx", "httpcore", "uvicorn.access"):  # they log whole URLs, query strings and tokens too
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    structlog.contextvars.bind_contextvars(service=service)


def message_bound(event_id: str, correlation_id: str, causation_id: str | None) -> AbstractContextManager[Any]:
    """Bind one message's ids to every log line written while it is handled."""
    return structlog.contextvars.bound_contextvars(
        event_id=event_id, correlation_id=correlation_id, causation_id=causation_id
    )
