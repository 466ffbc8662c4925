"""Exceptions that the command line shows as one message, without a traceback."""


class UserError(Exception):
    """A problem the user can fix: bad params, missing files or weights, bad data.

    The message names the value or file and the fix.
    """


class ConfigError(UserError):
    """An invalid value in params.yaml or on the command line."""


class DataError(UserError):
    """A dataset that cannot be read as requested."""


class BadImageError(DataError):
    """One image file that cannot be used."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class AssetError(UserError):
    """Model weights that cannot be found or provisioned."""
