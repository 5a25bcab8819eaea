"""Domain errors that carry their HTTP status and Backstage's error name.

Services raise these; the web layer turns them into Backstage's JSON error body and the CLI into
a red message and a non-zero exit code. A message says what is wrong, where, and how to fix it.
"""

from __future__ import annotations

from typing import Any, ClassVar


class PavedroadError(Exception):
    """Base of every error a user can be shown."""

    status_code: ClassVar[int] = 500
    name: ClassVar[str] = "Error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "message": self.message, **self.details}


class InputError(PavedroadError):
    """The request or the file is malformed."""

    status_code = 400
    name = "InputError"


class AuthenticationError(PavedroadError):
    status_code = 401
    name = "AuthenticationError"


class NotAllowedError(PavedroadError):
    status_code = 403
    name = "NotAllowedError"


class NotFoundError(PavedroadError):
    status_code = 404
    name = "NotFoundError"


class ConflictError(PavedroadError):
    status_code = 409
    name = "ConflictError"


class ServiceUnavailableError(PavedroadError):
    status_code = 503
    name = "ServiceUnavailableError"


class TooManyRequestsError(PavedroadError):
    status_code = 429
    name = "TooManyRequestsError"
