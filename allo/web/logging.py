"""One structured log line per request (method, path, status, duration, user id), and the filter
that keeps secrets and query strings out of every log line (docs/operations.md, « Logs »)."""

from __future__ import annotations

import logging
import re
import time

logger = logging.getLogger("allo.request")

# A secret in a query string (the telephony connector's WebSocket sends `?token=...`; Uvicorn logs
# the path with it, accepted or refused) and an Allô API token wherever it appears.
_SECRET_PARAM = re.compile(r"((?:access_)?token|jeton|password|mot_de_passe)=[^&\s\"'\\]*", re.IGNORECASE)
_API_TOKEN = re.compile(r"allo_[a-z]{4}_[A-Za-z0-9_-]{20,}")
MASK = "[redacted]"
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def redact(text: str) -> str:
    return _API_TOKEN.sub(MASK, _SECRET_PARAM.sub(lambda m: f"{m.group(1)}={MASK}", text))


def _has_secret(text: str) -> bool:
    return bool(_API_TOKEN.search(text) or _SECRET_PARAM.search(text))


class RedactSecrets(logging.Filter):
    """On the handlers: the message, and the extra fields a JSON line shows (Django's error log adds
    the request, whose text holds the full URL), lose any token before they are written."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path") and hasattr(request, "method"):
            # Django's error log adds the request, whose text is its full address: a search's or a
            # form's query string (what a citizen typed, a caller's number) stays out, the path is enough
            record.request = f"{request.method} {request.path}"
        message = record.getMessage()
        if _has_secret(message):
            record.msg, record.args = redact(message), None
        for name, value in list(vars(record).items()):
            if name in _STANDARD or value is None or isinstance(value, int | float | bool):
                continue
            text = value if isinstance(value, str) else str(value)
            if _has_secret(text):
                setattr(record, name, redact(text))
        return True


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
            },
        )
        return response
