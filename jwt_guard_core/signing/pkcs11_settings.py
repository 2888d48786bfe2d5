"""What a PKCS#11 key store's settings must say, checked without the PKCS#11 binding.

The settings layer (``ISSUING["PKCS11_*"]``) and ``manage.py check`` use
these before any module is loaded or any token logged in to, so they work
where the ``hsm`` extra (python-pkcs11) is not installed; the store itself
(:mod:`jwt_guard_core.signing.pkcs11_store`) repeats none of them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .._secret_files import read_secret
from ..errors import ConfigurationError

__all__ = ["check_pkcs11_settings", "refuse_literal_pin"]

_PREFIX = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def refuse_literal_pin(values: Mapping[str, Any], name_for: Callable[[str], str]) -> None:
    """Refuse a PIN written into the settings themselves (``PKCS11_PIN``).

    Settings files end up in version control, images and support tickets;
    the PIN is read from an environment variable (``PKCS11_PIN_ENV``) or a
    private file (``PKCS11_PIN_FILE``) instead. ``name_for`` spells a key
    the way the user writes it.
    """
    for key in ("PKCS11_PIN", "PIN"):
        if key in values:
            raise ConfigurationError(
                name_for(key),
                f"a PIN may not be written in the settings; put it in an environment variable "
                f"named by {name_for('PKCS11_PIN_ENV')} or in a file (mode 0600) named by "
                f"{name_for('PKCS11_PIN_FILE')}",
            )


def _read_pin(pin_env: str | None, pin_file: str | os.PathLike[str] | None) -> str:
    return read_secret(
        pin_env,
        pin_file,
        env_setting="pkcs11_pin_env",
        file_setting="pkcs11_pin_file",
        what="PIN",
    )


def _module_path(module: str | os.PathLike[str]) -> Path:
    if not isinstance(module, (str, os.PathLike)):
        raise ConfigurationError("pkcs11_module", f"{module!r} is not a path to a PKCS#11 module")
    path = Path(module)
    if not path.is_absolute():
        raise ConfigurationError(
            "pkcs11_module", f"{str(path)!r} is not an absolute path to a PKCS#11 module (.so)"
        )
    if not path.is_file():
        raise ConfigurationError("pkcs11_module", f"there is no PKCS#11 module at {path}")
    return path


def _check_options(
    token_label: str | None, slot: int | None, prefix: str, lock_file: object
) -> None:
    if (token_label is None) == (slot is None):
        raise ConfigurationError(
            "pkcs11_token_label", "give the token's label or its slot number (exactly one)"
        )
    if slot is not None and (isinstance(slot, bool) or not isinstance(slot, int)):
        raise ConfigurationError("pkcs11_slot", f"{slot!r} is not a slot number")
    if token_label is not None and (not isinstance(token_label, str) or not token_label):
        raise ConfigurationError("pkcs11_token_label", f"{token_label!r} is not a token label")
    if not isinstance(prefix, str) or _PREFIX.fullmatch(prefix) is None:
        raise ConfigurationError("pkcs11_prefix", "1 to 64 letters, digits, '_', '.', ':' or '-'")
    if lock_file is not None and not isinstance(lock_file, (str, os.PathLike)):
        raise ConfigurationError("pkcs11_lock_file", f"{lock_file!r} is not a path")


def check_pkcs11_settings(
    module: str | os.PathLike[str],
    *,
    token_label: str | None = None,
    slot: int | None = None,
    pin_env: str | None = None,
    pin_file: str | os.PathLike[str] | None = None,
    prefix: str = "jwt-guard",
    lock_file: str | os.PathLike[str] | None = None,
) -> None:
    """Every check of :class:`Pkcs11KeyStore`'s arguments that needs no module and no login.

    The module file exists at an absolute path, one token selector is
    given, the PIN variable is set or the PIN file is private and
    readable. Loads nothing and logs in nowhere: meant for start-up checks
    (``manage.py check``); raises the same named
    :class:`~jwt_guard_core.ConfigurationError` as opening the store.
    """
    _check_options(token_label, slot, prefix, lock_file)
    _read_pin(pin_env, pin_file)
    _module_path(module)
