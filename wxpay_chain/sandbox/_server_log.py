"""The logger the sandbox's aiohttp server reports to: a request it could not parse (a request line or a
header over aiohttp's limits, bytes that are not HTTP) is the caller's mistake, already answered 400; it
is one short INFO line, never an ERROR with a traceback. Anything else is logged as aiohttp logs it."""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError

__all__ = ["server_logger"]

_LOGGER = "wxpay_chain.sandbox.http"


class _BadRequestLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and 400 <= exc.code < 500:
            reason = f"{type(exc).__name__}: {str(exc.message)[:80]}".replace("\n", " ")
            record.msg, record.args = "sandbox refused an unreadable request (%s %s)", (exc.code, reason)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def server_logger() -> logging.Logger:
    """The logger to give aiohttp's ``AppRunner(logger=...)``."""
    logger = logging.getLogger(_LOGGER)
    if not any(isinstance(f, _BadRequestLine) for f in logger.filters):
        logger.addFilter(_BadRequestLine())
    return logger
