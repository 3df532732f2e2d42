"""structlog set-up: JSON lines off a terminal, per-message context, and CPR numbers and tokens redacted everywhere."""

import contextvars
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, Self

import structlog

# DDMMYY-SSSS or DDMMYYSSSS, not embedded in a longer digit run (so ids and øre amounts survive); `_is_cpr` then
# keeps only those whose first six digits are a date, so P-numbers and other ten-digit numbers that are not pass.
_CPR_CANDIDATE = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{2})-?\d{4}(?!\d)")
CPR_MASK = "<cpr>"
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# A token in a URL's query (the representative's mailed link, OAuth redirects), and any compact JWS or JWE, whose
# protected header always begins `{"` (`eyJ` in base64url): an access log line or an error then holds no token.
_TOKEN_PARAMETER = re.compile(r"(?i)([?&;](?:token|access_token|id_token|refresh_token|code)=)[^&;#\s\"']+")
_COMPACT_JOSE = re.compile(r"eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){2,4}")
TOKEN_MASK = "<token>"


def redact(value: Any) -> Any:
    """Mask every CPR number and token in a string, or in the strings inside a mapping or sequence."""
    if isinstance(value, str):
        masked = _COMPACT_JOSE.sub(TOKEN_MASK, _TOKEN_PARAMETER.sub(rf"\1{TOKEN_MASK}", value))
        return mask_cpr(masked)
    if isinstance(value, Mapping):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(item) for item in value)
    return value


def mask_cpr(text: str) -> str:
    """`text` with every CPR number masked: ten digits (a dash after the sixth or not) whose date part is a date."""
    return _CPR_CANDIDATE.sub(lambda found: CPR_MASK if _is_cpr(found) else found.group(0), text)


def _is_cpr(found: re.Match[str]) -> bool:
    """Whether DDMMYY is a day and month of the calendar, 29 February in any year, as the registry accepts them
    (`services.benefits.registry`); no control digit is checked, since numbers issued after 2007 may fail it."""
    day, month, _year = (int(part) for part in found.groups())
    return 1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month - 1]


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


class MessageContext:
    """Binds the ids of the message being handled to every log line written meanwhile, one message after another
    in a batch, and on exit restores what was bound before: three context variables set per message, where
    structlog's `bound_contextvars` (a context manager per message) copied the whole context twice each time."""

    def __init__(self) -> None:
        self._restore: Mapping[str, contextvars.Token[Any]] | None = None

    def bind(self, event_id: str, correlation_id: str, causation_id: str | None) -> None:
        tokens = structlog.contextvars.bind_contextvars(
            event_id=event_id, correlation_id=correlation_id, causation_id=causation_id
        )
        if self._restore is None:
            self._restore = tokens

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        if self._restore is not None:
            structlog.contextvars.reset_contextvars(**self._restore)
            self._restore = None
