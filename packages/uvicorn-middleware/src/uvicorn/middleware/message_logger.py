"""Log every ASGI message an application receives and sends, at TRACE level."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from uvicorn.middleware._types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["PLACEHOLDER_FORMAT", "TRACE_LOG_LEVEL", "MessageLoggerMiddleware", "message_with_placeholders"]

# The same number uvicorn-core registers as "TRACE"; repeated here because this
# package must not import core at run time.
TRACE_LOG_LEVEL = 5

# Payload keys replaced by a short description, so a trace shows the shape of
# the traffic without dumping bodies or credentials into the log.
PLACEHOLDER_FORMAT = {
    "body": "<{length} bytes>",
    "bytes": "<{length} bytes>",
    "text": "<{length} chars>",
    "headers": "<...>",
}


def message_with_placeholders(message: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of an ASGI message (or scope) with payloads replaced by their size."""
    shown = dict(message)
    for key, template in PLACEHOLDER_FORMAT.items():
        value = message.get(key)
        if value is not None:
            # Headers may be any iterable, so only measure what the template shows.
            shown[key] = template.format(length=len(value)) if "{length}" in template else template
    return shown


if logging.getLevelName(TRACE_LOG_LEVEL) == f"Level {TRACE_LOG_LEVEL}":
    # Standalone (without uvicorn-core) the level has no name yet.
    logging.addLevelName(TRACE_LOG_LEVEL, "TRACE")


class MessageLoggerMiddleware:
    """Trace each ASGI call on the ``uvicorn.asgi`` logger.

    Every call gets a sequence number; the log shows the scope it started
    with, each message received and sent, and whether it completed or raised.
    Bodies, texts and headers appear only as their size.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.task_counter = 0
        self.app = app
        self.logger = logging.getLogger("uvicorn.asgi")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.task_counter += 1
        task_number = self.task_counter
        logger = self.logger
        client = scope.get("client")
        prefix = f"{client[0]}:{client[1]} - ASGI" if client else "ASGI"

        async def logged_receive() -> Message:
            message = await receive()
            if logger.isEnabledFor(TRACE_LOG_LEVEL):
                shown = message_with_placeholders(message)
                logger.log(TRACE_LOG_LEVEL, "%s [%d] Receive %s", prefix, task_number, shown)
            return message

        async def logged_send(message: Message) -> None:
            if logger.isEnabledFor(TRACE_LOG_LEVEL):
                shown = message_with_placeholders(message)
                logger.log(TRACE_LOG_LEVEL, "%s [%d] Send %s", prefix, task_number, shown)
            await send(message)

        if logger.isEnabledFor(TRACE_LOG_LEVEL):
            shown_scope = message_with_placeholders(scope)
            logger.log(TRACE_LOG_LEVEL, "%s [%d] Started scope=%s", prefix, task_number, shown_scope)
        try:
            await self.app(scope, logged_receive, logged_send)
        except BaseException as exc:
            # The record carries the exception so a TRACE handler shows what was raised;
            # the server still sees the same exception, untouched.
            logger.log(TRACE_LOG_LEVEL, "%s [%d] Raised exception", prefix, task_number, exc_info=exc)
            raise
        logger.log(TRACE_LOG_LEVEL, "%s [%d] Completed", prefix, task_number)
