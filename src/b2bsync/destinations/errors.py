"""The exceptions destinations raise; each docstring is the default meaning."""

from __future__ import annotations

from b2bsync.errors import B2BSyncError, ConfigError

__all__ = ["DestinationConfigError", "DestinationError", "InvalidSignature", "PermanentError"]


class DestinationError(B2BSyncError):
    """A destination could not take a delivery."""


class PermanentError(DestinationError):
    """The destination refuses this delivery for good; retrying cannot help (outcome DEAD).

    Python plugins raise it for input they will never accept; any other exception is retried.
    """


class DestinationConfigError(ConfigError):
    """A destination's configuration is missing a setting or has a malformed one."""


class InvalidSignature(DestinationError):
    """A webhook body's b2bsync signature is missing, malformed, stale or does not match."""
