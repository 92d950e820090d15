"""What a catalog service refuses with: a message for the person, the fields at fault, a status."""

from __future__ import annotations


class CatalogError(Exception):
    status_code = 400

    def __init__(self, message: str = "", errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class Invalid(CatalogError):
    """Bad input: ``errors`` says, field by field, what to correct."""

    status_code = 400


class Forbidden(CatalogError):
    """Not the user's catalog or filing."""

    status_code = 403


class NotFound(CatalogError):
    status_code = 404


class Conflict(CatalogError):
    """The state changed meanwhile or forbids it now (under review, already decided)."""

    status_code = 409
