"""The exceptions the Odoo simulator raises, named like Odoo's own.

Each carries the fully qualified Python name Odoo reports (``odoo.exceptions.ValidationError``)
and the HTTP status the JSON-2 endpoint answers with; the JSON-RPC endpoint answers every error
with HTTP 200 and a JSON-RPC ``error`` member instead.
"""

from __future__ import annotations


class OdooError(Exception):
    """An error as Odoo reports it: exception name, message, JSON-2 HTTP status."""

    def __init__(self, name: str, message: str, status: int) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.status = status

    @classmethod
    def validation(cls, message: str) -> OdooError:
        return cls("odoo.exceptions.ValidationError", message, 422)

    @classmethod
    def user(cls, message: str) -> OdooError:
        return cls("odoo.exceptions.UserError", message, 422)

    @classmethod
    def missing(cls, message: str) -> OdooError:
        return cls("odoo.exceptions.MissingError", message, 404)

    @classmethod
    def access_denied(cls) -> OdooError:
        return cls("odoo.exceptions.AccessDenied", "Access Denied", 401)

    @classmethod
    def access(cls, message: str) -> OdooError:
        return cls("odoo.exceptions.AccessError", message, 403)

    @classmethod
    def value(cls, message: str) -> OdooError:
        # Odoo lets a ValueError from a bad domain or an unknown field escape as-is: JSON-2
        # answers it as an internal error (500), with the exception in the body all the same.
        return cls("builtins.ValueError", message, 500)

    @classmethod
    def not_found(cls, message: str) -> OdooError:
        return cls("werkzeug.exceptions.NotFound", message, 404)
