"""A secret read from where settings may point to it: an environment variable or a private file.

Settings files end up in version control, images and support tickets, so a
secret (a PKCS#11 PIN, an introspection client secret, a private key's
password) is never written in them: they name the environment variable or
the file that holds it. A file must be a regular file that group and others
cannot access (``chmod 600``); a symbolic link is not followed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import ConfigurationError

__all__ = ["read_key_password", "read_private_file", "read_secret"]

_MAX_SECRET_BYTES = 1024


def read_private_file(path: str | os.PathLike[str], setting: str, what: str, limit: int) -> bytes:
    """The first ``limit`` + 1 bytes of a private file (mode 0600 or stricter, no symlink).

    One byte more than ``limit`` is read so that the caller can tell an
    oversized file from one that fits.
    """
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ConfigurationError(setting, f"{path!r} is not a path")
    where = Path(path)
    try:
        fd = os.open(where, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise ConfigurationError(
            setting, f"cannot read the {what} file {where}: {exc.strerror}"
        ) from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        mode = stat.S_IMODE(st.st_mode)
        if not stat.S_ISREG(st.st_mode) or mode & 0o077:
            raise ConfigurationError(
                setting,
                f"the {what} file {where} has mode {mode:04o}; it must be a regular file that "
                f"group and others cannot access (chmod 600 {where})",
            )
        return fh.read(limit + 1)


def read_secret(
    env: object, file: object, *, env_setting: str, file_setting: str, what: str
) -> str:
    """The secret in the environment variable ``env`` or the private ``file`` (exactly one).

    Errors name ``env_setting`` / ``file_setting`` as the user spells them.
    """
    if (env is None) == (file is None):
        raise ConfigurationError(
            env_setting,
            f"give the name of an environment variable holding the {what}, or "
            f"{file_setting}, a file holding it (exactly one; never the {what} itself)",
        )
    if env is not None:
        if not isinstance(env, str) or not env:
            raise ConfigurationError(env_setting, "is not an environment variable name")
        value = os.environ.get(env)
        if not value:
            raise ConfigurationError(env_setting, f"the environment variable {env} is not set")
        return value
    assert file is not None
    raw = read_private_file(file, file_setting, what, _MAX_SECRET_BYTES)  # type: ignore[arg-type]
    try:
        value = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        value = ""
    if not value or len(raw) > _MAX_SECRET_BYTES:
        raise ConfigurationError(file_setting, f"the {what} file {file} holds no usable {what}")
    return value


def read_key_password(env: object, setting: str) -> bytes | None:
    """A private key file's password from the environment variable ``env`` (``None``: none)."""
    if env is None:
        return None
    password = read_secret(env, None, env_setting=setting, file_setting="", what="password")
    return password.encode("utf-8")
