"""The jwt-guard settings both resource servers use, from the test's environment."""

from __future__ import annotations

import os
from typing import Any


def settings() -> dict[str, Any]:
    # RESOURCE_URL and RESOURCE_DPOP are optional: the RFC 9728 test gives the
    # server's own loopback URL (gunicorn --env) and DPoP "allowed".
    return {
        "ALGORITHMS": ["ES256"],
        "OIDC_ISSUER": os.environ["RESOURCE_ISSUER"],
        "AUDIENCE": "https://api.example",
        "EXPECTED_TYPE": "at+jwt",
        "DPOP": os.environ.get("RESOURCE_DPOP", "required"),
        "DPOP_NONCES": [os.environ["RESOURCE_NONCE_SECRET"]],
        "DPOP_REPLAY_STORE": f"sqlite:///{os.environ['RESOURCE_REPLAY_DB']}",
        "RESOURCE_METADATA": {
            "resource": os.environ.get("RESOURCE_URL", "https://api.example"),
            "authorization_servers": [os.environ["RESOURCE_ISSUER"]],
        },
    }
