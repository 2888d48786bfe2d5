"""The ``JWE`` setting: nested JWE decrypted before the inner JWS is verified.

Django spells it ``JWT_GUARD["JWE"]``, Flask ``JWT_GUARD_JWE``; both are
one dict with the keys of :data:`KEYS`. The allowlists have no default: the
issuers' ``alg`` and ``enc`` are named. Private keys are never written in
the settings: ``KEYS`` names files (PEM or a private JWKS, mode 0600).
:func:`check_jwe` validates the shape without I/O (the start-up checks use
it), :func:`jwe_policy` reads the key files and builds the
:class:`~jwt_guard_core.jwe.JWEPolicy`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from .schema import entry as _key
from .schema import keyed_dict

if TYPE_CHECKING:
    from ..jwe import DecryptionKey, JWEPolicy
    from ..signing.encryption_keys import EncryptionKeyManager

__all__ = ["KEYS", "check_jwe", "from_issuing", "jwe_policy", "jwe_risks"]

#: Every key of the JWE dict, with what it means (docs/jwe.md lists them).
KEYS: Mapping[str, str] = {
    "KEYS": "*required*: the decryption keys: a path, or a list of paths, of PEM private keys "
    'or private JWKS files (mode 0600), or `"ISSUING"`: the key store\'s decryption key '
    "(`ISSUING` `ENCRYPTION_ALGORITHM`), rotated with an overlap window. A PEM key's `kid` "
    "is its RFC 7638 thumbprint",
    "ALGORITHMS": '*required*: the `alg` allowlist, e.g. `["ECDH-ES+A256KW"]`; no default',
    "ENCRYPTION": '*required*: the `enc` allowlist, e.g. `["A256GCM"]`; no default',
    "REQUIRED": "`True` (default): a plain JWS is refused (`encryption_required`); `False` "
    "accepts both (a warning)",
    "KEY_PASSWORD_ENV": "the environment variable holding the password of encrypted PEM keys",
}
_MAX_KEY_FILE = 1024 * 1024
# The policy's own field names -> the key a user writes.
_FIELDS = {
    "jwe.keys": "KEYS",
    "jwe.algorithms": "ALGORITHMS",
    "jwe.encryption": "ENCRYPTION",
    "jwe.required": "REQUIRED",
}


def _paths(value: Any, name: str) -> tuple[str | os.PathLike[str], ...]:
    items = value if isinstance(value, (list, tuple)) else [value]
    if not items:
        raise ConfigurationError(name, "required: at least one decryption key file")
    for item in items:
        if isinstance(item, Mapping) or (
            isinstance(item, (str, bytes)) and str(item).lstrip()[:1] in ("{", "-")
        ):
            raise ConfigurationError(
                name,
                "a private key may not be written in the settings; give the path of a PEM or "
                "private JWKS file (mode 0600)",
            )
        if not isinstance(item, (str, os.PathLike)) or not str(item):
            raise ConfigurationError(name, f"{item!r} is not a path to a key file")
    return tuple(items)


def from_issuing(keys: Any) -> bool:
    """Whether ``KEYS`` names the issuing side's key store (``"ISSUING"``, any case)."""
    return isinstance(keys, str) and keys.strip().upper() == "ISSUING"


def check_jwe(value: Any, where: str) -> Mapping[str, Any] | None:
    """The JWE dict checked for shape and allowlists (no I/O); ``None`` when not configured."""
    from ..jwe._primitives import CONTENT_ENCRYPTION, KEY_MANAGEMENT
    from ..jwe.keys import check_algorithm_names

    checked = keyed_dict(
        value, where, KEYS, "{'KEYS': path, 'ALGORITHMS': [...], 'ENCRYPTION': [...]}"
    )
    if checked is None:
        return None
    if checked.get("KEYS") is None:
        raise ConfigurationError(
            _key(where, "KEYS"), "required: the PEM or private JWKS file(s) of the decryption keys"
        )
    if not from_issuing(checked["KEYS"]):
        _paths(checked["KEYS"], _key(where, "KEYS"))
    check_algorithm_names(_key(where, "ALGORITHMS"), checked.get("ALGORITHMS"), KEY_MANAGEMENT)
    check_algorithm_names(_key(where, "ENCRYPTION"), checked.get("ENCRYPTION"), CONTENT_ENCRYPTION)
    required = checked.get("REQUIRED", True)
    if not isinstance(required, bool):
        raise ConfigurationError(_key(where, "REQUIRED"), f"{required!r} is not True or False")
    return checked


def _file_keys(
    path: str | os.PathLike[str], name: str, password: bytes | None
) -> list[DecryptionKey]:
    from .._secret_files import read_private_file
    from ..jwe import DecryptionKey, DecryptionKeySet
    from ..signing._crypto import thumbprint_kid

    data = read_private_file(path, name, "decryption key", _MAX_KEY_FILE)
    if len(data) > _MAX_KEY_FILE:
        raise ConfigurationError(name, f"the decryption key file {path} is over 1 MiB")
    try:
        if data.lstrip()[:1] == b"{":
            return list(DecryptionKeySet.from_jwks(data).keys)
        key = DecryptionKeySet.from_pem(data, password=password).keys[0]
    except ConfigurationError as exc:
        raise ConfigurationError(
            name, f"{path}: {str(exc).removeprefix(exc.setting + ': ')}"
        ) from None
    return [DecryptionKey.from_key(key.key, kid=thumbprint_kid(key.public_jwk))]


def jwe_policy(
    value: Any,
    where: str,
    *,
    issuing: Callable[[], EncryptionKeyManager] | None = None,
    issuing_algorithm: Callable[[], Any] | None = None,
) -> JWEPolicy | None:
    """The policy for the JWE dict (its key files read), or ``None`` when it is not set.

    With ``KEYS: "ISSUING"`` the keys are the issuing side's decryption keys:
    ``issuing`` opens their manager on first use (never here) and
    ``issuing_algorithm()`` reads its ``ENCRYPTION_ALGORITHM`` from the
    settings (``None``: not set); neither is called otherwise.
    """
    from .._secret_files import read_key_password
    from ..jwe import DecryptionKeySet, JWEPolicy

    checked = check_jwe(value, where)
    if checked is None:
        return None
    name = _key(where, "KEYS")
    keys: DecryptionKeySet
    if from_issuing(checked["KEYS"]):
        from ..signing.encryption_keys import StoredDecryptionKeys

        algorithm = issuing_algorithm() if issuing_algorithm is not None else None
        if issuing is None or not isinstance(algorithm, str):
            raise ConfigurationError(
                name,
                "'ISSUING' names the key store's decryption key: configure ISSUING with "
                "ENCRYPTION_ALGORITHM (e.g. 'ECDH-ES+A256KW')",
            )
        keys = StoredDecryptionKeys(issuing, algorithm)
    else:
        password = read_key_password(
            checked.get("KEY_PASSWORD_ENV"), _key(where, "KEY_PASSWORD_ENV")
        )
        found = [k for p in _paths(checked["KEYS"], name) for k in _file_keys(p, name, password)]
        keys = DecryptionKeySet(found, setting=name)
    try:
        return JWEPolicy(
            keys=keys,
            algorithms=list(checked["ALGORITHMS"]),
            encryption=list(checked["ENCRYPTION"]),
            required=checked.get("REQUIRED", True),
        )
    except ConfigurationError as exc:
        key = _FIELDS.get(exc.setting)
        if key is None:
            raise
        raise exc.renamed(_key(where, key)) from None


def jwe_risks(value: Any, where: str) -> Iterator[str]:
    """What is risky in a JWE dict, one sentence each (no I/O)."""
    if isinstance(value, Mapping) and value.get("REQUIRED") is False:
        yield (
            f"{_key(where, 'REQUIRED')} is False: plain signed tokens are accepted next to "
            "encrypted ones, so a token whose claims anyone can read still gets in"
        )
