"""What a docs code block may ask for before it runs: ``<!-- test: setup=NAME[,NAME] -->``.

Each setup is a generator ``f(ctx)`` that fills ``ctx.ns`` (the block's
namespace) with the names the block uses but does not define, yields while
the block runs, and may then check what the block built (a settings dict
the core must accept, a route that must answer). Setups never change the
block's code, except ``sandbox``, which moves absolute ``/var/lib/...``
paths under the test's temporary directory (the one rewrite there is).
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core import GuardConfig, StaticKeySet, TokenError, Verifier

PASSPHRASE = "docs code blocks passphrase 0123456789"
ISSUER = "https://issuer.example"
AUDIENCE = "https://api.example"


@dataclass
class Context:
    """A block's run: its namespace, its temporary directory, its code (``sandbox`` rewrites)."""

    ns: dict[str, Any]
    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch
    code: str
    stack: ExitStack = field(default_factory=ExitStack)


Setup = Callable[[Context], Iterator[None]]
SETUPS: dict[str, Setup] = {}


def setup(name: str) -> Callable[[Setup], Setup]:
    def register(function: Setup) -> Setup:
        SETUPS[name] = function
        return function

    return register


def _passphrase(ctx: Context) -> None:
    ctx.monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", PASSPHRASE)


@setup("sandbox")
def sandbox(ctx: Context) -> Iterator[None]:
    """``/var/lib/<app>/...`` under the temporary directory; the store passphrase set."""
    root = ctx.tmp_path / "sandbox"
    for app in sorted(set(re.findall(r"/var/lib/([\w.-]+)/", ctx.code))):
        (root / "var" / "lib" / app).mkdir(parents=True, mode=0o700)
    ctx.code = re.sub(r"(?<=[\"'])/var/lib/", f"{root}/var/lib/", ctx.code)
    _passphrase(ctx)
    yield


def _local_issuer(ctx: Context, **options: Any) -> Any:
    from jwt_guard_core.testing import LocalIssuer

    issuer = LocalIssuer(**options)
    ctx.stack.callback(issuer.close)
    return issuer


@setup("local-issuer")
def local_issuer(ctx: Context) -> Iterator[None]:
    """``issuer``: a running loopback LocalIssuer; ``LocalIssuer`` (closed after the block)."""
    from jwt_guard_core.testing import LocalIssuer

    ctx.ns.update(issuer=_local_issuer(ctx), LocalIssuer=LocalIssuer)
    yield
    for value in ctx.ns.values():
        if isinstance(value, LocalIssuer):
            value.close()


@setup("raw-token")
def raw_token(ctx: Context) -> Iterator[None]:
    """``raw_token``: an RS256 token of ISSUER for AUDIENCE; ``jwks.json``: its public key set."""
    from jwt_guard_core.signing import FileKeyStore, KeyManager, TokenIssuer

    keys = KeyManager(FileKeyStore(ctx.tmp_path / "keys", passphrase=PASSPHRASE), algorithm="RS256")
    issuer = TokenIssuer(keys, issuer=ISSUER, audience=AUDIENCE)
    ctx.ns["raw_token"] = issuer.issue_access_token("alice", scopes=["orders:read"])
    (ctx.tmp_path / "jwks.json").write_text(json.dumps(keys.jwks()))
    yield
    assert ctx.ns["token"].subject == "alice"


@setup("metrics")
def metrics(ctx: Context) -> Iterator[None]:
    """``metrics``: a counter with ``increment(name)``; a rejection after the block is counted."""
    counted: list[str] = []

    class Metrics:
        def increment(self, name: str) -> None:
            counted.append(name)

    ctx.ns["metrics"] = Metrics()
    yield
    keys = StaticKeySet.from_jwks(_local_issuer(ctx, serve=False).jwks())
    verifier = Verifier(
        GuardConfig(algorithms=["ES256"], keys=keys, issuer=ISSUER, audience=AUDIENCE)
    )
    with pytest.raises(TokenError):
        verifier.verify("not-a-token")
    assert counted[-1] == "jwt.malformed"
    ctx.ns["unsubscribe"]()
    seen = len(counted)
    with pytest.raises(TokenError):
        verifier.verify("not-a-token")
    assert len(counted) == seen  # unsubscribed


@setup("django-settings")
def django_settings(ctx: Context) -> Iterator[None]:
    """A settings module's names: ``BASE_DIR``, ``JWT_GUARD`` (a valid base to extend).

    After the block, the settings must hold: every dotted path in
    ``INSTALLED_APPS``/``MIDDLEWARE``/``REST_FRAMEWORK`` imports, ``JWT_GUARD``
    builds a verifier configuration with no start-up error, and ``ISSUING``
    passes its start-up check; ``urlpatterns``, when given, resolve.
    """
    from django.utils.module_loading import import_string

    from jwt_guard_core.settings import GuardSettings, findings, sides
    from jwt_guard_core.settings.resource import resource_policy

    _passphrase(ctx)
    ctx.ns.update(
        BASE_DIR=ctx.tmp_path,
        JWT_GUARD={
            "ALGORITHMS": ["ES256"],
            "ISSUER": "https://auth.example.com",
            "AUDIENCE": "https://api.example.com",
            "KEY_SOURCE": "ISSUING",
            "ISSUING": {"KEY_DIR": ctx.tmp_path / "keys", "ISSUER": "https://auth.example.com"},
        },
    )
    yield
    ns = ctx.ns
    for app in ns.get("INSTALLED_APPS", ()):
        if app is not Ellipsis:
            __import__(app)
    for dotted in ns.get("MIDDLEWARE", ()):
        if dotted is not Ellipsis:
            import_string(dotted)
    for classes in ns.get("REST_FRAMEWORK", {}).values():
        for dotted in classes:
            import_string(dotted)
    parsed = GuardSettings.from_mapping(ns["JWT_GUARD"], "django")
    errors = [f.message for f in findings(parsed) if f.error]
    assert not errors, errors
    parsed.request  # noqa: B018 - validates where tokens are read
    parsed.guard_config(issuing_keys=lambda: sides.open_issuing(parsed).keys)
    if parsed.group("issuing") is not None:
        sides.check_issuing(parsed)
    resource = resource_policy(parsed)  # DPoP, mTLS and RFC 9728 metadata settings
    if "RESOURCE_METADATA" in ns["JWT_GUARD"]:
        assert resource.metadata is not None
        assert (
            resource.metadata.document()["resource"]
            == ns["JWT_GUARD"]["RESOURCE_METADATA"]["resource"]
        )
    for pattern in ns.get("urlpatterns", ()):
        if pattern is not Ellipsis:
            assert pattern.resolve is not None


@setup("flask-app")
def flask_app(ctx: Context) -> Iterator[None]:
    """``app``: a new Flask app with no jwt-guard configuration yet."""
    from flask import Flask

    ctx.ns["app"] = Flask("docs_example")
    yield


def _issuing_app(ctx: Context) -> Any:
    from flask import Flask

    _passphrase(ctx)
    app = Flask("docs_example")
    app.config.update(
        JWT_GUARD_ISSUING_KEY_DIR=str(ctx.tmp_path / "keys"),
        JWT_GUARD_ISSUING_ISSUER="https://auth.example.com",
        JWT_GUARD_ISSUING_AUDIENCE="https://api.example.com",
        JWT_GUARD_ALGORITHMS=["ES256"],
        JWT_GUARD_ISSUER="https://auth.example.com",
        JWT_GUARD_AUDIENCE="https://api.example.com",
    )
    return app


@setup("flask-issuing")
def flask_issuing(ctx: Context) -> Iterator[None]:
    """``app`` with the issuing keys and the accepted issuer/audience set, no JWTGuard yet.

    After the block, when the block did not, ``JWTGuard(app)`` is registered
    and a token the app issues must open a protected route.
    """
    from jwt_guard_flask import JWTGuard, jwt_required
    from jwt_guard_flask.issuing import get_token_issuer

    app = ctx.ns["app"] = _issuing_app(ctx)

    @app.get("/docs-check")
    @jwt_required
    def protected() -> dict[str, str]:
        return {"ok": "yes"}

    yield
    if "jwt_guard" not in app.extensions:
        JWTGuard(app)
    with app.app_context():
        token = get_token_issuer().issue_access_token("docs-user")
    client = app.test_client()
    assert (
        client.get("/docs-check", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    assert client.get("/docs-check").status_code == 401


@setup("flask-keys")
def flask_keys(ctx: Context) -> Iterator[None]:
    """After ``flask-issuing``: the app's key manager is its key source (flask.md shows how)."""
    from jwt_guard_flask.issuing import get_key_manager

    app = ctx.ns["app"]
    app.config["JWT_GUARD_KEYS"] = get_key_manager(app)
    yield


@setup("flask-guard")
def flask_guard(ctx: Context) -> Iterator[None]:
    """``app`` and ``guard`` over a LocalIssuer's keys; a refusal must reach the block's handler."""
    from flask import Flask

    from jwt_guard_flask import JWTGuard, jwt_required

    issuer = _local_issuer(ctx, serve=False)
    app = Flask("docs_example")
    app.config.update(
        JWT_GUARD_ALGORITHMS=["ES256"],
        JWT_GUARD_ISSUER=issuer.url,
        JWT_GUARD_AUDIENCE=issuer.audience,
        JWT_GUARD_JWKS=issuer.jwks(),
    )
    ctx.ns.update(app=app, guard=JWTGuard(app))

    @app.get("/docs-check")
    @jwt_required
    def protected() -> dict[str, str]:
        return {"ok": "yes"}

    yield
    refused = app.test_client().get("/docs-check", headers={"Authorization": "Bearer x.y.z"})
    assert refused.status_code == 401
    assert "WWW-Authenticate" in refused.headers
    assert set(refused.get_json()) == {"problem"}


@setup("find-user")
def find_user(ctx: Context) -> Iterator[None]:
    """``find_user(username)``: a user with ``id`` and ``check_password``, or ``None``."""

    class User:
        id = 42

        def check_password(self, password: str) -> bool:
            return password == "right"

    ctx.ns["find_user"] = lambda username: User() if username == "alice" else None
    yield
    # The block's login route, when it registered one, takes the user's password.
    app = ctx.ns.get("app")
    if app is not None and "/auth/token" in {r.rule for r in app.url_map.iter_rules()}:
        client = app.test_client()
        login = client.post("/auth/token", json={"username": "alice", "password": "right"})
        assert login.status_code == 200, login.get_data(as_text=True)
        wrong = client.post("/auth/token", json={"username": "alice", "password": "wrong"})
        assert wrong.status_code == 400


@setup("key-store")
def key_store(ctx: Context) -> Iterator[None]:
    """``directory``: a key store directory holding one key (the passphrase set)."""
    from jwt_guard_core.signing import FileKeyStore, KeyManager

    _passphrase(ctx)
    directory = ctx.tmp_path / "keys"
    KeyManager(FileKeyStore(directory)).active_key()
    ctx.ns["directory"] = directory
    yield


@setup("session-limiter")
def session_limiter(ctx: Context) -> Iterator[None]:
    """``limiter``, ``verifier``, a valid ``token``, a client ``ip``, a refusing ``password_ok``."""
    from jwt_guard_core.sessions import FailureRateLimiter, SQLiteSessionStore

    issuer = _local_issuer(ctx, serve=False)
    store = SQLiteSessionStore(str(ctx.tmp_path / "sessions.db"))
    ctx.stack.callback(getattr(store, "close", lambda: None))
    keys = StaticKeySet.from_jwks(issuer.jwks())
    config = GuardConfig(
        algorithms=["ES256"], keys=keys, issuer=issuer.url, audience=issuer.audience
    )
    ctx.ns.update(
        limiter=FailureRateLimiter(store),
        verifier=Verifier(config),
        token=issuer.tokens().token(),
        ip="203.0.113.7",
        username="alice",
        password="wrong",
        password_ok=lambda username, password: False,
    )
    yield


@setup("verified-token")
def verified_token(ctx: Context) -> Iterator[None]:
    """``verified_token`` after a multi-factor login just now, ``clock``, ``dpop_policy``."""
    from jwt_guard_core.dpop import DPoPPolicy

    issuer = _local_issuer(ctx, serve=False)
    now = time.time()
    token = issuer.tokens().token(claims={"acr": "urn:example:mfa", "auth_time": int(now)})
    keys = StaticKeySet.from_jwks(issuer.jwks())
    config = GuardConfig(
        algorithms=["ES256"], keys=keys, issuer=issuer.url, audience=issuer.audience
    )
    ctx.ns.update(
        verified_token=Verifier(config).verify(token),
        clock=time.time,
        dpop_policy=DPoPPolicy(mode="allowed"),
    )
    yield


@setup("challenge")
def challenge(ctx: Context) -> Iterator[None]:
    """``policy`` (DPoP allowed), ``metadata`` (RFC 9728) and a refused token's ``error``."""
    from jwt_guard_core import TokenExpired
    from jwt_guard_core.dpop import DPoPPolicy
    from jwt_guard_core.resource_metadata import ProtectedResourceMetadata

    policy = DPoPPolicy(mode="allowed")
    ctx.ns.update(
        policy=policy,
        metadata=ProtectedResourceMetadata.for_policies(
            resource="https://api.example/v1", dpop=policy
        ),
        error=TokenExpired(),
    )
    yield
    assert ctx.ns["response"].status == 401


@setup("remote-ip")
def remote_ip(ctx: Context) -> Iterator[None]:
    """``remote_ip``: the client's address."""
    ctx.ns["remote_ip"] = "203.0.113.7"
    yield


@setup("introspection")
def introspection(ctx: Context) -> Iterator[None]:
    """``token``: a JWT access token, ``verifier`` that accepts it, ``source`` for opaque ones.

    The opaque branch needs the issuer's introspection endpoint, which
    tests/core/test_introspection.py runs on loopback; here a JWT takes
    the other branch, and a block's ``verify`` function must return it verified.
    """
    from jwt_guard_core.introspection import ClientSecretBasic, IntrospectionSource

    issuer = _local_issuer(ctx, serve=False)
    keys = StaticKeySet.from_jwks(issuer.jwks())
    config = GuardConfig(
        algorithms=["ES256"], keys=keys, issuer=issuer.url, audience=issuer.audience
    )
    source = IntrospectionSource(
        "https://auth.example/o/introspect/",
        issuer="https://auth.example",
        client_auth=ClientSecretBasic("orders-api", "its-secret"),
        audience="https://api.example/orders",
    )
    ctx.stack.callback(source.close)
    token = issuer.tokens().token(sub="alice")
    first = Verifier(config)
    ctx.ns.update(token=token, verifier=first, source=source, issuer_keys=keys)
    yield
    verify = ctx.ns.get("verify")
    if callable(verify):
        assert verify(token).subject == "alice"
    built = ctx.ns["verifier"]
    if built is not first:
        # A block that builds its own verifier hands opaque tokens to the source.
        assert built.config.opaque_source is source


@setup("mtls")
def mtls(ctx: Context) -> Iterator[None]:
    """A certificate-bound ``verified_token``, the proxy header's values, unbound ``claims``."""
    import base64
    import datetime
    import hashlib
    from urllib.parse import quote

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    thumbprint = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    issuer = _local_issuer(ctx, serve=False)
    token = issuer.tokens().token(claims={"cnf": {"x5t#S256": thumbprint}})
    keys = StaticKeySet.from_jwks(issuer.jwks())
    config = GuardConfig(
        algorithms=["ES256"], keys=keys, issuer=issuer.url, audience=issuer.audience
    )
    ctx.ns.update(
        verified_token=Verifier(config).verify(token),
        all_values_of_that_header=[quote(pem)],
        claims={"sub": "unbound"},
    )
    yield


# What a route demanding more than a valid token answers to one: a DPoP-bound
# token with its proof (RFC 9449), or a stronger or more recent login (RFC 9470).
DPOP_DEMANDED = 'DPoP realm="api", error="invalid_token"'
STEP_UP_DEMANDED = 'error="insufficient_user_authentication"'


def _django_views(ns: dict[str, Any]) -> dict[str, Any]:
    """The block's views: functions a jwt-guard decorator wrapped, and DRF ``APIView``s."""
    from rest_framework.views import APIView

    views = {}
    for name, value in ns.items():
        if isinstance(value, type) and issubclass(value, APIView) and value is not APIView:
            views[name] = value.as_view()
        elif callable(value) and hasattr(value, "__wrapped__"):
            views[name] = value
    return views


def _django_routes(ctx: Context, demanded: str) -> Iterator[None]:
    """``JWT_GUARD`` over a LocalIssuer's keys with ``DPOP = "allowed"``; after the block,
    each of its views refuses a request without a token, and refuses a token that is
    valid but no more with ``demanded`` in its challenge."""
    from django.test import RequestFactory, override_settings

    issuer = _local_issuer(ctx, serve=False)
    ctx.stack.enter_context(
        override_settings(JWT_GUARD=issuer.django_settings(source="static", DPOP="allowed"))
    )
    yield
    views = _django_views(ctx.ns)
    assert views, "the block defines no protected view"
    plain = issuer.tokens().token()
    factory = RequestFactory()
    for name, view in views.items():
        anonymous = view(factory.post("/"))
        assert anonymous.status_code == 401, name
        assert anonymous.has_header("WWW-Authenticate"), name
        refused = view(factory.post("/", HTTP_AUTHORIZATION=f"Bearer {plain}"))
        assert refused.status_code == 401, name
        assert demanded in refused["WWW-Authenticate"], (name, refused["WWW-Authenticate"])


@setup("django-dpop")
def django_dpop(ctx: Context) -> Iterator[None]:
    """Django with DPoP allowed; the block's views must demand a DPoP-bound token."""
    yield from _django_routes(ctx, DPOP_DEMANDED)


@setup("django-step-up")
def django_step_up(ctx: Context) -> Iterator[None]:
    """Django; the block's views must demand a stronger login than the plain token's."""
    yield from _django_routes(ctx, STEP_UP_DEMANDED)


def _flask_routes(ctx: Context, demanded: str) -> Iterator[None]:
    """``app`` and ``guard`` over a LocalIssuer's keys with ``DPOP="allowed"``; after the
    block, each route it added refuses a request without a token, and refuses a token
    that ``/docs-check`` (a plain ``jwt_required``) accepts with ``demanded``."""
    from flask import Flask

    from jwt_guard_flask import JWTGuard, jwt_required

    issuer = _local_issuer(ctx, serve=False)
    app = Flask("docs_example")
    app.config.update(issuer.flask_config(source="static", DPOP="allowed"))
    ctx.ns.update(app=app, guard=JWTGuard(app))

    @app.post("/docs-check")
    @jwt_required
    def protected() -> dict[str, str]:
        return {"ok": "yes"}

    before = {rule.rule for rule in app.url_map.iter_rules()}
    yield
    added = [rule for rule in app.url_map.iter_rules() if rule.rule not in before]
    assert added, "the block adds no route"
    plain = {"Authorization": f"Bearer {issuer.tokens().token()}"}
    client = app.test_client()
    assert client.post("/docs-check", headers=plain).status_code == 200
    for rule in added:
        anonymous = client.post(rule.rule)
        assert anonymous.status_code == 401, rule
        assert "WWW-Authenticate" in anonymous.headers, rule
        refused = client.post(rule.rule, headers=plain)
        assert refused.status_code == 401, rule
        assert demanded in refused.headers["WWW-Authenticate"], (rule, refused.headers)


@setup("flask-dpop")
def flask_dpop(ctx: Context) -> Iterator[None]:
    """Flask with DPoP allowed; the block's routes must demand a DPoP-bound token."""
    yield from _flask_routes(ctx, DPOP_DEMANDED)


@setup("flask-step-up")
def flask_step_up(ctx: Context) -> Iterator[None]:
    """Flask; the block's routes must demand a stronger login than the plain token's."""
    yield from _flask_routes(ctx, STEP_UP_DEMANDED)


@setup("jwe-keys")
def jwe_keys(ctx: Context) -> Iterator[None]:
    """Keys for docs/jwe.md: the files a verifier reads, the names an issuer uses.

    ``api-enc.jwks.json``: the payments API's private EC P-384 JWKS;
    ``auth.jwks.json``: the public JWKS of ``keys``, the issuer's ES256
    KeyManager; ``decryption`` (that private key set) and
    ``payments_enc_jwk`` (its public key). After the block, a ``verifier``
    must accept a nested JWE for the payments API and refuse a plain JWS
    (``encryption_required``); ``encrypted`` must be a nested JWE that key
    opens and ``plain`` a JWS; ``public_jwks`` holds no private member.
    """
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    from jwt_guard_core.jwe import DecryptionKeySet, JWEPolicy, RecipientKey
    from jwt_guard_core.signing import FileKeyStore, KeyManager, TokenIssuer

    private = ec.generate_private_key(ec.SECP384R1())
    private_jwk = {
        **ECAlgorithm.to_jwk(private, as_dict=True),
        "kid": "enc-2026",
        "alg": "ECDH-ES+A256KW",
        "use": "enc",
    }
    (ctx.tmp_path / "api-enc.jwks.json").write_text(json.dumps({"keys": [private_jwk]}))
    decryption = DecryptionKeySet.from_jwks({"keys": [private_jwk]})
    keys = KeyManager(FileKeyStore(ctx.tmp_path / "keys", passphrase=PASSPHRASE), algorithm="ES256")
    (ctx.tmp_path / "auth.jwks.json").write_text(json.dumps(keys.jwks()))
    payments_jwk = decryption.jwks()["keys"][0]
    ctx.ns.update(decryption=decryption, keys=keys, payments_enc_jwk=payments_jwk)
    yield
    ns = ctx.ns
    payments = "https://payments.example"
    issuer = TokenIssuer(
        keys,
        issuer="https://auth.example",
        encrypt_for={
            payments: RecipientKey.from_jwk(payments_jwk, alg="ECDH-ES+A256KW", enc="A256GCM")
        },
    )
    if "verifier" in ns:
        nested = issuer.issue_access_token("alice", audience=payments)
        assert ns["verifier"].verify(nested).subject == "alice"
        plain_issuer = TokenIssuer(keys, issuer="https://auth.example", audience=payments)
        with pytest.raises(TokenError) as refused:
            ns["verifier"].verify(plain_issuer.issue_access_token("alice"))
        assert refused.value.reason == "encryption_required"
    if "public_jwks" in ns:
        assert ns["public_jwks"]["keys"]
        assert all("d" not in k for k in ns["public_jwks"]["keys"])
    if "encrypted" in ns:
        assert ns["encrypted"].count(".") == 4
        assert ns["plain"].count(".") == 2
        opener = Verifier(
            GuardConfig(
                algorithms=["ES256"],
                keys=StaticKeySet.from_jwks(keys.jwks()),
                issuer="https://auth.example",
                audience=payments,
                jwe=JWEPolicy(
                    keys=decryption, algorithms=["ECDH-ES+A256KW"], encryption=["A256GCM"]
                ),
            )
        )
        assert opener.verify(ns["encrypted"]).subject == "user-1"


def _sandbox_apps(ctx: Context) -> list[Path]:
    """The ``/var/lib/<app>`` directories ``sandbox`` made (it runs first)."""
    root = ctx.tmp_path / "sandbox" / "var" / "lib"
    return sorted(root.iterdir()) if root.is_dir() else []


def _django_config(ctx: Context) -> GuardConfig:
    """The verifier configuration of the block's ``JWT_GUARD`` (``django-settings``)."""
    from jwt_guard_core.settings import GuardSettings, sides

    parsed = GuardSettings.from_mapping(ctx.ns["JWT_GUARD"], "django")
    return parsed.guard_config(issuing_keys=lambda: sides.open_issuing(parsed).keys)


def _private_file(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


@setup("introspection-secret")
def introspection_secret(ctx: Context) -> Iterator[None]:
    """The introspection client secret: in ``ORDERS_API_INTROSPECTION_SECRET`` and in
    ``introspection-secret`` (mode 0600) of each sandbox directory.

    After the block the settings' source must authenticate as ``orders-api``.
    """
    ctx.monkeypatch.setenv("ORDERS_API_INTROSPECTION_SECRET", "docs-client-secret")
    for app in _sandbox_apps(ctx):
        _private_file(app / "introspection-secret", b"docs-client-secret\n")
    yield
    if "JWT_GUARD" in ctx.ns:
        source = _django_config(ctx).opaque_source
        assert source is not None
        assert source.issuer == ctx.ns["JWT_GUARD"]["ISSUER"]
        ctx.stack.callback(source.close)  # type: ignore[attr-defined]


@setup("jwe-key-files")
def jwe_key_files(ctx: Context) -> Iterator[None]:
    """Decryption key files in each sandbox directory (mode 0600).

    ``enc.pem``: an EC P-256 PKCS#8 key; ``enc.jwks.json``: a private JWKS
    with one RSA key for RSA-OAEP-256. After a Django block its ``JWEPolicy``
    must decrypt a nested JWE made for ``enc.pem``.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from jwt.algorithms import RSAAlgorithm

    ec_key = ec.generate_private_key(ec.SECP256R1())
    pem = ec_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    rsa_jwk = {
        k: v
        for k, v in RSAAlgorithm.to_jwk(rsa.generate_private_key(65537, 2048), as_dict=True).items()
        if k != "key_ops"  # PyJWT writes signing operations
    }
    rsa_jwk = {
        **rsa_jwk,
        "kid": "enc-rsa-2026",
        "alg": "RSA-OAEP-256",
        "use": "enc",
    }
    for app in _sandbox_apps(ctx):
        _private_file(app / "enc.pem", pem)
        _private_file(app / "enc.jwks.json", json.dumps({"keys": [rsa_jwk]}).encode())
    yield
    if "JWT_GUARD" in ctx.ns:
        from jwt_guard_core.jwe import decrypt_compact, encrypt_compact
        from jwt_guard_core.jwe.keys import RecipientKey

        policy = _django_config(ctx).jwe
        assert policy is not None
        public = policy.keys.jwks()["keys"][0]
        recipient = RecipientKey.from_jwk(public, alg="ECDH-ES+A256KW", enc="A256GCM")
        _, plaintext = decrypt_compact(encrypt_compact(b"docs", recipient), policy, 8192)
        assert plaintext == b"docs"


@setup("redis-breaker")
def redis_breaker(ctx: Context) -> Iterator[None]:
    """The key store passphrase set; after the block, the session store uses its closed ``breaker``.

    Building the stores opens no connection (redis-py connects on first use),
    so the block runs without a Redis server.
    """
    _passphrase(ctx)
    yield
    breaker = ctx.ns["breaker"]
    assert ctx.ns["sessions"].breaker is breaker
    assert ctx.ns["sessions"].breaker.state == "closed"


@setup("otel-reader")
def otel_reader(ctx: Context) -> Iterator[None]:
    """After the block: a refused token shows in its ``reader``; ``uninstall`` runs at the end."""
    ctx.stack.callback(lambda: ctx.ns.get("uninstall", lambda: None)())
    yield
    keys = StaticKeySet.from_jwks(_local_issuer(ctx, serve=False).jwks())
    verifier = Verifier(
        GuardConfig(algorithms=["ES256"], keys=keys, issuer=ISSUER, audience=AUDIENCE)
    )
    with pytest.raises(TokenError):
        verifier.verify("not-a-token")
    points = [
        point.attributes
        for resource in ctx.ns["reader"].get_metrics_data().resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "jwt_guard.verifications"
        for point in metric.data.data_points
    ]
    assert {"outcome": "rejected", "reason": "malformed"} in [
        {k: p.get(k) for k in ("outcome", "reason")} for p in points
    ], points


@setup("flask-settings")
def flask_settings(ctx: Context) -> Iterator[None]:
    """``app``: a new Flask app; after the block, ``JWTGuard(app)`` starts on its config.

    The block's ``JWT_GUARD_*`` keys must pass the core's validation with no
    start-up error and no start-up warning.
    """
    from flask import Flask

    from jwt_guard_flask import JWTGuard
    from jwt_guard_flask.config import load

    app = ctx.ns["app"] = Flask("docs_example")
    yield
    JWTGuard(app)
    assert load(app.config).warnings == ()


def _django_verifier(settings: dict[str, Any]) -> tuple[Verifier, Callable[..., str]]:
    """A verifier of ``JWT_GUARD`` (``django-settings``' ISSUING keys) and its token issuer."""
    from jwt_guard_core.settings import GuardSettings, sides

    parsed = GuardSettings.from_mapping(settings, "django")
    issuing = sides.open_issuing(parsed)
    verifier = Verifier(parsed.guard_config(issuing_keys=lambda: issuing.keys))
    audience = settings["AUDIENCE"]

    def issue(**claims: Any) -> str:
        return issuing.issuer.issue_access_token("alice", audience=audience, claims=claims)

    return verifier, issue


def _refused(verifier: Verifier, token: str) -> str:
    with pytest.raises(TokenError) as refused:
        verifier.verify(token)
    return refused.value.reason


@setup("claim-values")
def claim_values(ctx: Context) -> Iterator[None]:
    """After ``django-settings``: the block's ``CLAIM_VALUES`` (docs/claims.md) hold."""
    yield
    verifier, issue = _django_verifier(ctx.ns["JWT_GUARD"])
    good = {"tenant": "acme", "ver": "2.0", "groups": ["users", "staff"]}
    assert verifier.verify(issue(**good)).subject == "alice"
    assert _refused(verifier, issue(**{**good, "tenant": "other"})) == "invalid_claim"
    assert _refused(verifier, issue(**{**good, "groups": ["users"]})) == "invalid_claim"
    assert _refused(verifier, issue(ver="2.0", groups=["staff"])) == "missing_claim"


@setup("claims-check")
def claims_check(ctx: Context) -> Iterator[None]:
    """After ``django-settings``: the block's ``CLAIMS_CHECK`` lets paid plans only through."""
    yield
    verifier, issue = _django_verifier(ctx.ns["JWT_GUARD"])
    assert verifier.verify(issue(plan="paid")).subject == "alice"
    assert _refused(verifier, issue(plan="free")) == "unpaid"
    assert _refused(verifier, issue()) == "unpaid"


@setup("role-permissions")
def role_permissions(ctx: Context) -> Iterator[None]:
    """After ``django-settings``: a ``TokenUser`` holds the permissions its roles map to."""
    from django.test import override_settings

    from jwt_guard_django.user import TokenUser

    yield
    verifier, issue = _django_verifier(ctx.ns["JWT_GUARD"])
    with override_settings(JWT_GUARD=ctx.ns["JWT_GUARD"]):
        admin = TokenUser(verifier.verify(issue(roles=["admin"])))
        assert admin.has_perms(["orders.add_order", "orders.delete_order"])
        assert not admin.has_perm("orders.view_order")
        assert admin.has_module_perms("orders")
        reader = TokenUser(verifier.verify(issue(roles=["reader"])))
        assert not reader.has_perm("orders.add_order")
        assert reader.get_all_permissions() == set()


@setup("hsm-pin")
def hsm_pin(ctx: Context) -> Iterator[None]:
    """``JWT_GUARD_HSM_PIN`` set, as the service's environment would have it (docs/hsm.md)."""
    ctx.monkeypatch.setenv("JWT_GUARD_HSM_PIN", "docs-example-pin")
    yield


@functools.cache
def _provider_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(65537, 2048)


def _provider_accepts_its_shape(raw: dict[str, Any], adapter: str, prefix: str) -> None:
    """``raw`` (a ``PROVIDER`` configuration) verifies that provider's token of tests/providers.

    The profile's remote key source is replaced by a test key (a given key
    source wins over the profile's), the clock is the token's; everything
    else is the block's own configuration, loaded by the core's settings
    loader, so a wrong key, parameter or value fails here.
    """
    from jwt_guard_core.settings import GuardSettings, findings
    from tests.factories import FakeClock, public_pem, sign
    from tests.providers.shapes import SHAPES, T

    settings = GuardSettings.from_mapping(raw, adapter)  # type: ignore[arg-type]
    assert [f.message for f in findings(settings)] == []
    name = raw[f"{prefix}PROVIDER"]["name"]
    shape = next(s for s in SHAPES if s.provider == name)
    key = _provider_key()
    testable = {
        **raw,
        # The same key setting in each spelling: Django VERIFYING_KEY, Flask PUBLIC_KEY.
        ("VERIFYING_KEY" if adapter == "django" else "JWT_GUARD_PUBLIC_KEY"): {
            "rsa-1": public_pem(key).decode()
        },
        f"{prefix}CLOCK": FakeClock(T),
    }
    parsed = GuardSettings.from_mapping(testable, adapter)  # type: ignore[arg-type]
    assert parsed.unknown == ()
    verifier = Verifier(parsed.guard_config())
    token = sign({"alg": "RS256", "kid": "rsa-1", **shape.header}, shape.claims, key)
    assert verifier.verify(token).subject == shape.claims["sub"]


@setup("provider-django")
def provider_django(ctx: Context) -> Iterator[None]:
    """After the block: its ``JWT_GUARD`` (a ``PROVIDER``) loads with no finding and verifies
    that provider's token (tests/providers/shapes.py)."""
    yield
    _provider_accepts_its_shape(ctx.ns["JWT_GUARD"], "django", "")


@setup("provider-flask")
def provider_flask(ctx: Context) -> Iterator[None]:
    """``app``: a new Flask app; after the block, ``JWTGuard(app)`` starts on its config with
    no warning, and the ``JWT_GUARD_*`` keys verify that provider's token."""
    from flask import Flask

    from jwt_guard_flask import JWTGuard
    from jwt_guard_flask.config import load

    app = ctx.ns["app"] = Flask("docs_example")
    yield
    raw = {k: v for k, v in app.config.items() if k.startswith("JWT_GUARD_")}  # the block's
    JWTGuard(app)
    assert load(app.config).warnings == ()
    _provider_accepts_its_shape(raw, "flask", "JWT_GUARD_")
