"""One error hierarchy: each error carries its HTTP status and a stable code."""

from __future__ import annotations


class LifecareError(Exception):
    """A refusal that a client can act on; rendered as `{"error": {"code", "message"}}`."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class Unauthorized(LifecareError):
    status = 401
    code = "unauthorized"


class Forbidden(LifecareError):
    status = 403
    code = "forbidden"


class NotFound(LifecareError):
    status = 404
    code = "not_found"


class Conflict(LifecareError):
    status = 409
    code = "conflict"


class Invalid(LifecareError):
    status = 422
    code = "invalid"


class PayloadTooLarge(LifecareError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(LifecareError):
    status = 415
    code = "unsupported_media_type"


class Unavailable(LifecareError):
    status = 503
    code = "unavailable"


ERRORS_BY_STATUS: dict[int, type[LifecareError]] = {
    cls.status: cls
    for cls in (
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        Invalid,
        PayloadTooLarge,
        UnsupportedMediaType,
        Unavailable,
    )
}


def error_for(status: int, code: str, message: str) -> LifecareError:
    """Rebuild an error from its status and code (e.g. one refused inside a workflow)."""
    return ERRORS_BY_STATUS.get(status, LifecareError)(message, code=code)
