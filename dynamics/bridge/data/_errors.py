"""The error and warning types of the dataset loaders."""

from __future__ import annotations

from dynamics.config import ConfigError

__all__ = ["DataError", "UnverifiedDataWarning"]


class DataError(ConfigError):
    """A dataset file is missing, truncated, corrupt, unsafe or fails its checksum.

    A `ConfigError`, so the CLI prints it and exits with status 2. The message names the file (or
    `data_dir`), what was found and what was expected, e.g.
    ``/data/cifar-10-python.tar.gz = 'md5 0f3a…': expected md5 c58f30108f718f92721af3b95e74349a …``.
    A loader that raises it returns nothing and leaves no temporary file behind.
    """


class UnverifiedDataWarning(UserWarning):
    """Dataset files were loaded without their checksums being verified.

    Issued for `verify=False` (a user's modified copy) and for files that have no known checksum
    (the members of the CIFAR-10 binary folder, for which no md5s are published).
    """
