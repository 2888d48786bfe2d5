"""The ``INTROSPECTION`` setting: opaque tokens verified by their issuer (RFC 7662).

Django spells it ``JWT_GUARD["INTROSPECTION"]``, Flask
``JWT_GUARD_INTROSPECTION``; both are one dict with the keys of
:data:`KEYS`. :func:`check_introspection` validates its shape without any
I/O (the start-up checks use it), :func:`introspection_source` builds the
:class:`~jwt_guard_core.introspection.IntrospectionSource` the verifier
routes opaque tokens to, and :func:`introspection_findings` names the risky
values. Secrets are never written in the settings: the client secret and
a private key's password come from an environment variable or a private
file, the private key from a private file (``_secret_files.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from .schema import entry as _key
from .schema import keyed_dict, seconds

if TYPE_CHECKING:
    from ..introspection import IntrospectionSource
    from ..keys import KeySource

__all__ = [
    "KEYS",
    "LONG_POSITIVE_TTL",
    "check_introspection",
    "introspection_issuer",
    "introspection_risks",
    "introspection_source",
]

#: Every key of the INTROSPECTION dict, with what it means (docs/introspection.md lists them).
KEYS: Mapping[str, str] = {
    "ENDPOINT": 'the introspection endpoint URL, or `"discovery"`: the '
    "`introspection_endpoint` of the issuer's metadata",
    "METADATA": 'with discovery: `"oauth-authorization-server"` (RFC 8414, the default) or '
    '`"openid-configuration"`',
    "ISSUER": "the issuer whose opaque tokens are introspected; default `ISSUER` (when it is "
    "one string) or `OIDC_ISSUER`; required with `ISSUERS`",
    "CLIENT_ID": "*required*: this API's client id at the authorization server",
    "CLIENT_AUTH": '`"client_secret_basic"` (default), `"client_secret_post"` or '
    '`"private_key_jwt"`',
    "CLIENT_SECRET_ENV": "the environment variable holding the client secret",
    "CLIENT_SECRET_FILE": "or a file (mode 0600) holding it",
    "PRIVATE_KEY_FILE": "`private_key_jwt`: a PEM private key file (mode 0600)",
    "PRIVATE_KEY_PASSWORD_ENV": "the environment variable holding its password, if encrypted",
    "ASSERTION_ALGORITHM": "the client assertion's algorithm (default `RS256`)",
    "ASSERTION_KID": "the `kid` put in the client assertion's header",
    "ASSERTION_AUDIENCE": "the assertion's `aud` (default the endpoint URL)",
    "ASSERTION_LIFETIME": "the assertion's lifetime in seconds (default 60)",
    "AUDIENCE": "this API's identifier(s) an answer's `aud` must contain; default `AUDIENCE`",
    "VERIFY_AUDIENCE": "`False` for servers whose answers carry no `aud` (a warning); default "
    "`VERIFY_AUDIENCE`",
    "REQUIRED_CLAIMS": 'members an active answer must have (default `["exp"]`)',
    "TOKEN_TYPES": "accepted `token_type` values (default bearer access tokens)",
    "CLIENTS": "accepted `client_id` values (default any)",
    "SIGNED_RESPONSES": "`True`: ask for and require signed answers (RFC 9701), verified with "
    "the issuer's key source",
    "RESPONSE_ALGORITHMS": "allowlist of the signed answers (default asymmetric algorithms)",
    "MAX_RESPONSE_AGE": "oldest accepted `iat` of a signed answer (seconds, default 60)",
    "POSITIVE_TTL": "how long an active answer is cached (seconds or `timedelta`, default 60; "
    "over 300 is a warning): a token revoked at the server works this long",
    "NEGATIVE_TTL": "how long an inactive answer is cached (default 5)",
    "MAX_ENTRIES": "cached answers at most (default 10000)",
    "TIMEOUT": "hard deadline of one exchange (seconds, default 5)",
    "MAX_BYTES": "largest accepted answer (default 65536)",
    "MAX_TOKEN_BYTES": "longer opaque tokens are refused before any request (default 4096)",
    "ALLOW_HTTP": "plain http for a non-loopback endpoint (a warning)",
    "VERIFY": "TLS verification: `True`, a CA bundle path, or `False` (a warning)",
    "TOKEN_TYPE_HINT": '`token_type_hint` sent with each request (default `"access_token"`)',
}
METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
#: Literal secrets, refused with where the secret goes instead ({} is a key's spelling).
_LITERAL = {
    "CLIENT_SECRET": "an environment variable named by {CLIENT_SECRET_ENV} or a file (mode "
    "0600) named by {CLIENT_SECRET_FILE}",
    "PRIVATE_KEY": "a PEM file (mode 0600) named by {PRIVATE_KEY_FILE}",
    "PRIVATE_KEY_PASSWORD": "an environment variable named by {PRIVATE_KEY_PASSWORD_ENV}",
}
#: A revoked token keeps working for the cache time; longer than this is reported.
LONG_POSITIVE_TTL = 300
_MAX_KEY_FILE = 64 * 1024
# The source's own option names -> the key a user writes.
_OPTIONS = {
    "audience": "AUDIENCE",
    "verify_audience": "VERIFY_AUDIENCE",
    "required_claims": "REQUIRED_CLAIMS",
    "token_types": "TOKEN_TYPES",
    "clients": "CLIENTS",
    "response_algorithms": "RESPONSE_ALGORITHMS",
    "max_response_age": "MAX_RESPONSE_AGE",
    "positive_ttl": "POSITIVE_TTL",
    "negative_ttl": "NEGATIVE_TTL",
    "max_entries": "MAX_ENTRIES",
    "timeout": "TIMEOUT",
    "max_bytes": "MAX_BYTES",
    "max_token_bytes": "MAX_TOKEN_BYTES",
    "allow_http": "ALLOW_HTTP",
    "verify": "VERIFY",
    "token_type_hint": "TOKEN_TYPE_HINT",
}
_DURATIONS = ("positive_ttl", "negative_ttl", "max_response_age", "timeout")
# Errors the client-authentication classes name by their own fields.
_AUTH_FIELDS = {
    "client_id": "CLIENT_ID",
    "client_secret": "CLIENT_SECRET_ENV",
    "private_key": "PRIVATE_KEY_FILE",
    "algorithm": "ASSERTION_ALGORITHM",
    "lifetime": "ASSERTION_LIFETIME",
}


def check_introspection(value: Any, where: str) -> Mapping[str, Any] | None:
    """The INTROSPECTION dict checked for shape (no I/O); ``None`` when not configured.

    ``where`` is the setting as the user spells it. Unknown keys, a secret
    written in the settings, a missing endpoint or client id and an unknown
    authentication method are refused with the key to fix.
    """
    if isinstance(value, Mapping):
        for literal, instead in _LITERAL.items():
            if literal in value:
                spelled = {key: _key(where, key) for key in KEYS}
                raise ConfigurationError(
                    _key(where, literal),
                    "a secret may not be written in the settings; put it in "
                    + instead.format(**spelled),
                )
    checked = keyed_dict(
        value, where, KEYS, "{'ENDPOINT': ..., 'CLIENT_ID': ..., 'CLIENT_SECRET_ENV': ...}"
    )
    if checked is None:
        return None
    endpoint = checked.get("ENDPOINT")
    if not isinstance(endpoint, str) or not endpoint:
        raise ConfigurationError(
            _key(where, "ENDPOINT"),
            "required: the introspection endpoint URL, or 'discovery' to find it in the "
            "issuer's metadata",
        )
    if "METADATA" in checked and endpoint != "discovery":
        raise ConfigurationError(_key(where, "METADATA"), "only with ENDPOINT 'discovery'")
    client_id = checked.get("CLIENT_ID")
    if not isinstance(client_id, str) or not client_id:
        raise ConfigurationError(
            _key(where, "CLIENT_ID"), "required: this API's client id at the authorization server"
        )
    method = checked.get("CLIENT_AUTH", METHODS[0])
    if method not in METHODS:
        raise ConfigurationError(
            _key(where, "CLIENT_AUTH"), f"{method!r} is not one of {', '.join(METHODS)}"
        )
    secret_keys = [k for k in ("CLIENT_SECRET_ENV", "CLIENT_SECRET_FILE") if checked.get(k)]
    key_keys = [k for k in KEYS if k.startswith(("PRIVATE_KEY", "ASSERTION_")) and k in checked]
    if method == "private_key_jwt":
        if secret_keys:
            raise ConfigurationError(
                _key(where, secret_keys[0]), "not used with private_key_jwt; remove it"
            )
        if not checked.get("PRIVATE_KEY_FILE"):
            raise ConfigurationError(
                _key(where, "PRIVATE_KEY_FILE"),
                "required with private_key_jwt: the PEM file of this API's private key",
            )
    else:
        if len(secret_keys) != 1:
            raise ConfigurationError(
                _key(where, "CLIENT_SECRET_ENV"),
                f"give it or {_key(where, 'CLIENT_SECRET_FILE')} (exactly one) with {method}",
            )
        if key_keys:
            raise ConfigurationError(
                _key(where, key_keys[0]), f"only used with private_key_jwt, not {method}"
            )
    return checked


def introspection_issuer(value: Mapping[str, Any], where: str, default: Any) -> str:
    """The issuer whose opaque tokens go to introspection: ``ISSUER``, else ``default``."""
    issuer = value.get("ISSUER", default)
    if not isinstance(issuer, str) or not issuer:
        raise ConfigurationError(
            _key(where, "ISSUER"),
            "required: the issuer whose opaque tokens are introspected (it cannot be taken "
            "from the top-level ISSUER unless that is one string)",
        )
    return issuer


def introspection_source(
    value: Any,
    where: str,
    *,
    issuer: Any,
    audience: Any,
    verify_audience: bool,
    leeway: float,
    clock: Callable[[], float] | None,
    keys_for: Callable[[str], KeySource | None],
) -> IntrospectionSource | None:
    """The source for the INTROSPECTION dict, or ``None`` when it is not set.

    ``issuer``, ``audience``, ``verify_audience``, ``leeway`` and ``clock``
    are the top-level settings it defaults to; ``keys_for(issuer)`` is that
    issuer's key source, for signed answers. Reads the client secret or the
    private key (environment or file) and nothing else: no request is made.
    """
    from ..introspection import IntrospectionSource

    checked = check_introspection(value, where)
    if checked is None:
        return None
    iss = introspection_issuer(checked, where, issuer)
    options: dict[str, Any] = {
        "audience": audience,
        "verify_audience": verify_audience,
        "leeway": leeway,
    }
    if clock is not None:
        options["clock"] = clock
    for option, key in _OPTIONS.items():
        if key in checked:
            given = checked[key]
            options[option] = seconds(given, key) if option in _DURATIONS else given
    if not options["verify_audience"] and "AUDIENCE" not in checked:
        options["audience"] = None
    signed = checked.get("SIGNED_RESPONSES", False)
    if not isinstance(signed, bool):
        raise ConfigurationError(
            _key(where, "SIGNED_RESPONSES"), f"{signed!r} is not True or False"
        )
    if signed:
        keys = keys_for(iss)
        if keys is None:
            raise ConfigurationError(
                _key(where, "SIGNED_RESPONSES"),
                f"no key source is configured for {iss!r} to verify signed answers with",
            )
        options["response_keys"] = keys
    options["client_auth"] = _client_auth(checked, where)
    try:
        if checked["ENDPOINT"] == "discovery":
            metadata = checked.get("METADATA", "oauth-authorization-server")
            return IntrospectionSource.from_issuer(iss, metadata=metadata, **options)
        return IntrospectionSource(checked["ENDPOINT"], issuer=iss, **options)
    except ConfigurationError as exc:
        key = {"endpoint": "ENDPOINT", "issuer": "ISSUER", "metadata": "METADATA"}.get(
            exc.setting, _OPTIONS.get(exc.setting, exc.setting.upper())
        )
        raise exc.renamed(_key(where, key)) from None


def _client_auth(value: Mapping[str, Any], where: str) -> Any:
    from .._secret_files import read_key_password, read_private_file, read_secret
    from ..introspection import ClientSecretBasic, ClientSecretPost, PrivateKeyJWT

    method = value.get("CLIENT_AUTH", METHODS[0])
    client_id = value["CLIENT_ID"]
    try:
        if method == "private_key_jwt":
            from cryptography.hazmat.primitives.serialization import load_pem_private_key

            name = _key(where, "PRIVATE_KEY_FILE")
            pem = read_private_file(value["PRIVATE_KEY_FILE"], name, "private key", _MAX_KEY_FILE)
            password = read_key_password(
                value.get("PRIVATE_KEY_PASSWORD_ENV"), _key(where, "PRIVATE_KEY_PASSWORD_ENV")
            )
            try:
                key = load_pem_private_key(pem, password=password)
            except (ValueError, TypeError) as exc:
                raise ConfigurationError(
                    name, f"the file holds no PEM private key this password opens ({exc})"
                ) from None
            return PrivateKeyJWT(
                client_id,
                key,
                algorithm=value.get("ASSERTION_ALGORITHM", "RS256"),
                kid=value.get("ASSERTION_KID"),
                audience=value.get("ASSERTION_AUDIENCE"),
                lifetime=value.get("ASSERTION_LIFETIME", 60.0),
            )
        secret = read_secret(
            value.get("CLIENT_SECRET_ENV"),
            value.get("CLIENT_SECRET_FILE"),
            env_setting=_key(where, "CLIENT_SECRET_ENV"),
            file_setting=_key(where, "CLIENT_SECRET_FILE"),
            what="client secret",
        )
        cls = ClientSecretBasic if method == "client_secret_basic" else ClientSecretPost
        return cls(client_id, secret)
    except ConfigurationError as exc:
        if exc.setting in _AUTH_FIELDS:
            raise exc.renamed(_key(where, _AUTH_FIELDS[exc.setting])) from None
        raise


def introspection_risks(value: Any, where: str) -> Iterator[str]:
    """What is risky in a well-formed INTROSPECTION dict, one sentence each (no I/O)."""
    if not isinstance(value, Mapping):
        return
    ttl = value.get("POSITIVE_TTL")
    ttl = seconds(ttl, "POSITIVE_TTL")
    if isinstance(ttl, (int, float)) and not isinstance(ttl, bool) and ttl > LONG_POSITIVE_TTL:
        yield (
            f"{_key(where, 'POSITIVE_TTL')} is {ttl:g} seconds: a token revoked at the "
            "authorization server keeps working here that long"
        )
    if value.get("VERIFY_AUDIENCE") is False:
        yield (
            f"{_key(where, 'VERIFY_AUDIENCE')} is False: an active token issued for another "
            "API is accepted"
        )
    if value.get("VERIFY") is False:
        yield (
            f"{_key(where, 'VERIFY')} is False: TLS certificates are not checked, so anyone on "
            "the network path can answer that any token is active"
        )
    if value.get("ALLOW_HTTP") is True:
        yield (
            f"{_key(where, 'ALLOW_HTTP')} is True: tokens and the client's credentials may "
            "travel in plain http"
        )
