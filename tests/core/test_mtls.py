"""Certificate-bound tokens (RFC 8705 section 3), the certificate taken from a proxy header."""

from __future__ import annotations

import datetime
import hashlib
import logging
import random
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jwt_guard_core import ConfigurationError
from jwt_guard_core.challenges import ChallengeOptions, challenge_response
from jwt_guard_core.encoding import b64url_encode
from jwt_guard_core.mtls import (
    CertificateBindingError,
    MTLSPolicy,
    bound_certificate_thumbprint,
    certificate_thumbprint,
    check_certificate_binding,
)
from tests.core.dpop_support import refused
from tests.factories import claims, sign


def _certificate(common_name: str) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


CERT = _certificate("client-1")
OTHER = _certificate("client-2")
PEM = CERT.public_bytes(serialization.Encoding.PEM).decode()
DER = CERT.public_bytes(serialization.Encoding.DER)
THUMBPRINT = b64url_encode(hashlib.sha256(DER).digest())
HEX = hashlib.sha256(DER).hexdigest()
OTHER_PEM = OTHER.public_bytes(serialization.Encoding.PEM).decode()
BY = "By=spiffe://cluster.local/ns/default/sa/api"
SUBJECT = 'Subject="CN=client-1,O=Example; Inc"'


@pytest.fixture
def issue(keyring, make_verifier):
    verifier = make_verifier()

    def _issue(cnf=None):
        extra = {"cnf": cnf} if cnf is not None else {}
        raw = sign({"alg": "RS256", "kid": "rsa-1"}, claims(**extra), keyring.rsa)
        return verifier.verify(raw)

    return _issue


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        (PEM, "pem"),
        (PEM.replace("\n", " "), "pem"),  # proxies that cannot send newlines
        (PEM.replace("\n", "\n\t"), "pem"),  # nginx's old $ssl_client_cert folding
        (quote(PEM, safe=""), "url_encoded_pem"),  # nginx $ssl_client_escaped_cert
        (quote(PEM, safe="/+="), "url_encoded_pem"),
        (f"{BY};Hash={HEX};{SUBJECT};URI=spiffe://client", "xfcc"),  # Envoy's default
        (f'{BY};Hash={HEX};Cert="{quote(PEM, safe="")}"', "xfcc"),
        (f'{BY};Cert="{quote(PEM, safe="")}";{SUBJECT}', "xfcc"),
        (f"{BY};Hash={HEX.upper()}", "xfcc"),
    ],
)
def test_the_thumbprint_is_the_sha256_of_the_certificate_der(value, fmt):
    assert certificate_thumbprint(value, fmt) == THUMBPRINT


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        ("not a certificate", "pem"),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "pem"),
        ("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----", "pem"),
        ("%ZZ", "url_encoded_pem"),
        ("x" * 40_000, "pem"),
        (f"{BY};Hash={HEX},{BY};Hash={HEX}", "xfcc"),  # two hops: only SANITIZE_SET is accepted
        (BY, "xfcc"),
        (f"{BY};Hash=abc", "xfcc"),
        (f"{BY};Hash={HEX};Hash={HEX}", "xfcc"),
        (f'{BY};Subject="unterminated', "xfcc"),
        (f"{BY};Hash", "xfcc"),
        (f"=x;Hash={HEX}", "xfcc"),
        (f'{BY};Hash={HEX};Cert="{quote(OTHER_PEM, safe="")}"', "xfcc"),  # Hash and Cert disagree
        ("", "xfcc"),
    ],
)
def test_an_unreadable_certificate_header_is_refused_as_malformed(value, fmt):
    refused(
        lambda: certificate_thumbprint(value, fmt),
        CertificateBindingError,
        "mtls_header_malformed",
        error="invalid_token",
    )


def test_a_bound_token_with_its_certificate_passes(issue):
    token = issue({"x5t#S256": THUMBPRINT})
    policy = MTLSPolicy("X-SSL-Client-Cert", "url_encoded_pem")
    assert policy.check(token.claims, [quote(PEM, safe="")]) == THUMBPRINT


def test_a_bound_token_with_another_certificate_is_refused(issue):
    token = issue({"x5t#S256": THUMBPRINT})
    policy = MTLSPolicy("X-SSL-Client-Cert", "pem")
    error = refused(
        lambda: policy.check(token.claims, [OTHER_PEM]),
        CertificateBindingError,
        "mtls_certificate_mismatch",
        error="invalid_token",
    )
    response = challenge_response(error, ChallengeOptions())
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


@pytest.mark.parametrize("values", [[], [""], ["  "]])
def test_a_bound_token_without_a_certificate_is_refused(issue, values):
    token = issue({"x5t#S256": THUMBPRINT})
    policy = MTLSPolicy("X-Forwarded-Client-Cert", "xfcc")
    refused(
        lambda: policy.check(token.claims, values),
        CertificateBindingError,
        "mtls_certificate_missing",
        error="invalid_token",
    )


def test_a_bound_token_is_refused_when_mtls_is_not_configured(issue):
    token = issue({"x5t#S256": THUMBPRINT})
    refused(
        lambda: check_certificate_binding(token.claims, None),
        CertificateBindingError,
        "mtls_certificate_missing",
        error="invalid_token",
    )


def test_the_certificate_header_twice_is_refused(issue):
    token = issue({"x5t#S256": THUMBPRINT})
    policy = MTLSPolicy("X-SSL-Client-Cert", "pem")
    refused(
        lambda: policy.check(token.claims, [PEM, PEM]),
        CertificateBindingError,
        "mtls_header_malformed",
        error="invalid_token",
    )


def test_an_unbound_token_passes_whatever_the_header_says(issue):
    token = issue()
    policy = MTLSPolicy("X-SSL-Client-Cert", "pem")
    assert policy.check(token.claims, ["garbage", "more garbage"]) is None
    check_certificate_binding(token.claims, None)
    assert bound_certificate_thumbprint(token.claims) is None


@pytest.mark.parametrize("cnf", [{"x5t#S256": 5}, {"x5t#S256": ""}, {"x5t#S256": None}])
def test_a_malformed_cnf_thumbprint_is_refused(issue, cnf):
    token = issue(cnf)
    refused(
        lambda: check_certificate_binding(token.claims, THUMBPRINT),
        CertificateBindingError,
        "mtls_bad_cnf",
        error="invalid_token",
    )


def test_a_dpop_binding_alone_is_not_a_certificate_binding(issue):
    token = issue({"jkt": "abc"})
    check_certificate_binding(token.claims, None)


@pytest.mark.parametrize(
    ("header", "fmt", "setting"),
    [
        ("bad header", "pem", "mtls_certificate_header"),
        ("X-Cert", "der", "mtls_certificate_format"),
    ],
)
def test_bad_mtls_settings_name_the_setting(header, fmt, setting):
    with pytest.raises(ConfigurationError) as info:
        MTLSPolicy(header, fmt)
    assert info.value.setting == setting


def test_an_unknown_format_is_a_configuration_error():
    with pytest.raises(ConfigurationError):
        certificate_thumbprint(PEM, "der")


def test_refusals_are_security_events(issue, recorded_events):
    token = issue({"x5t#S256": THUMBPRINT})
    policy = MTLSPolicy("X-SSL-Client-Cert", "pem")
    with pytest.raises(CertificateBindingError):
        policy.check(token.claims, [OTHER_PEM])
    with pytest.raises(CertificateBindingError):
        check_certificate_binding(token.claims, None)
    events = [(e.name, e.reason, e.level) for e in recorded_events]
    assert events == [
        ("certificate_binding_rejected", "mtls_certificate_mismatch", logging.WARNING),
        ("certificate_binding_rejected", "mtls_certificate_missing", logging.INFO),
    ]


@pytest.mark.parametrize("fmt", ["pem", "url_encoded_pem", "xfcc"])
def test_random_header_values_are_a_thumbprint_or_a_malformed_refusal(fmt):
    rng = random.Random(8705)
    alphabet = [
        '"',
        "\\",
        ";",
        ",",
        "=",
        "Hash",
        "Cert",
        "By",
        HEX[:10],
        "%0A",
        "-----BEGIN CERTIFICATE-----",
        "-----END CERTIFICATE-----",
        "MIIB",
        " ",
        "\t",
        "é",
        "\x00",
    ]
    for _ in range(2000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        try:
            certificate_thumbprint(value, fmt)
        except CertificateBindingError as error:
            assert error.reason == "mtls_header_malformed"  # noqa: PT017
