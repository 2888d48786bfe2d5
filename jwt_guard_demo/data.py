"""The demo's data folder and its demo user.

Everything the demo keeps lives in one folder (default
``./jwt-guard-demo-data``), created ``0700``; a folder that group or others
can open is refused, as the file key store refuses its own directory::

    jwt-guard-demo-data/
        key-passphrase    the key store's passphrase (0600)
        keys/             the FileKeyStore: sealed signing keys (0700, files 0600)
        sessions.sqlite3  refresh tokens (hashed), revocations, rate limits (0600)

The passphrase is kept beside the keys only because this is a demo that must
run with nothing set up. A real deployment gives it through the environment
(``JWT_GUARD_KEY_PASSPHRASE``) and never stores it next to the key directory.

The demo user's password is new on every start, printed once, and kept
only as a scrypt hash in memory: nothing on disk can log in.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from jwt_guard_core import ConfigurationError
from jwt_guard_core.signing.keystore import check_key_directory

__all__ = ["DEFAULT_DATA_DIR", "DemoData", "DemoUser", "prepare_data_dir"]

#: Where the demo keeps its data when ``--data-dir`` is not given (relative to the current folder).
DEFAULT_DATA_DIR = "jwt-guard-demo-data"
PASSPHRASE_FILE = "key-passphrase"  # noqa: S105 - a file name
SETTING = "--data-dir"

# scrypt at interactive cost: the password is random, the hash only keeps
# it out of memory dumps and logs in a readable form.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)


@dataclass(frozen=True)
class DemoUser:
    """The one account of the demo: a username, its subject, its scopes and a password hash."""

    username: str
    subject: str
    scopes: tuple[str, ...]
    salt: bytes = field(repr=False)
    password_hash: bytes = field(repr=False)

    @classmethod
    def generate(
        cls,
        username: str = "demo",
        *,
        scopes: tuple[str, ...] = ("profile", "orders:read"),
    ) -> tuple[DemoUser, str]:
        """A user with a fresh random password; returns the user and the password to print."""
        password = secrets.token_urlsafe(12)
        salt = secrets.token_bytes(16)
        user = cls(username, f"user-{username}", scopes, salt, _hash(password, salt))
        return user, password

    def check(self, username: str, password: str) -> bool:
        """Whether ``username`` and ``password`` are this user's (constant time for the hash)."""
        matches = hmac.compare_digest(_hash(password, self.salt), self.password_hash)
        return matches and hmac.compare_digest(username.encode(), self.username.encode())


@dataclass(frozen=True)
class DemoData:
    """The paths inside a prepared data folder, and the key store passphrase."""

    root: Path
    passphrase: str = field(repr=False)

    @property
    def key_dir(self) -> Path:
        return self.root / "keys"

    @property
    def sessions_path(self) -> Path:
        return self.root / "sessions.sqlite3"


def _read_or_create_passphrase(path: Path) -> str:
    try:
        # O_NOFOLLOW: a symbolic link planted in the folder is not followed.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        passphrase = secrets.token_urlsafe(32)
        # O_EXCL: never write through an existing file or link; 0600 whatever the umask.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(passphrase + "\n")
        return passphrase
    except OSError as exc:
        raise ConfigurationError(SETTING, f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd) as source:
        mode = os.fstat(source.fileno()).st_mode & 0o777
        if mode & 0o077:
            raise ConfigurationError(
                SETTING,
                f"{path} has mode {mode:04o}; it must not be readable by others (chmod 600)",
            )
        passphrase = source.read().strip()
    if len(passphrase) < 16:
        raise ConfigurationError(SETTING, f"{path} does not hold a passphrase of 16 characters")
    return passphrase


def _check_folder(root: Path) -> bool:
    """The key directory's own rule (it holds the keys), reported as ``--data-dir``."""
    try:
        return check_key_directory(root, SETTING)
    except ConfigurationError as exc:
        if exc.setting == SETTING:
            raise
        message = str(exc).removeprefix(f"{exc.setting}: ")
        raise ConfigurationError(SETTING, message) from None


def prepare_data_dir(path: str | os.PathLike[str] | None = None) -> DemoData:
    """Create (``0700``) or check the data folder and return its layout.

    ``None`` is :data:`DEFAULT_DATA_DIR` in the current folder. Raises
    :class:`~jwt_guard_core.ConfigurationError` (setting ``--data-dir``)
    for a folder group or others can open, a path that is not a folder, or
    an unreadable passphrase file.
    """
    root = Path(DEFAULT_DATA_DIR if path is None else path).absolute()
    if not _check_folder(root):
        try:
            root.mkdir(mode=0o700, parents=True)
        except OSError as exc:
            raise ConfigurationError(SETTING, f"cannot create {root}: {exc.strerror}") from None
        _check_folder(root)
    return DemoData(root=root, passphrase=_read_or_create_passphrase(root / PASSPHRASE_FILE))
