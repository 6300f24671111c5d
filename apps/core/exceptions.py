"""Errors with a safe, client-facing message and an HTTP status (contract 1.7).

Raise these from services and views; the exception handler renders them as
`{"error": message, "status": status_code}`. `log_detail` goes to the server log only.
"""


class ApplicationError(Exception):
    status_code = 400
    default_message = "Invalid request"

    def __init__(self, message: str | None = None, *, log_detail: str | None = None) -> None:
        self.message = message or self.default_message
        self.log_detail = log_detail
        super().__init__(self.message)


class InvalidRequest(ApplicationError):
    status_code = 400
    default_message = "Invalid request"


class InputTooLarge(ApplicationError):
    status_code = 400
    default_message = "Input exceeds allowed limits"


class Unauthorized(ApplicationError):
    status_code = 401
    default_message = "Unauthorized"


class Forbidden(ApplicationError):
    status_code = 403
    default_message = "Forbidden"


class NotFound(ApplicationError):
    status_code = 404
    default_message = "Not found"


class Conflict(ApplicationError):
    status_code = 409
    default_message = "Conflict"


class Unprocessable(ApplicationError):
    status_code = 422
    default_message = "Unprocessable entity"


class ServiceUnavailable(ApplicationError):
    status_code = 503
    default_message = "Service unavailable"
