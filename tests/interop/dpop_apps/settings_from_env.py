"""The jwt-guard settings both resource servers use, from the test's environment."""

from __future__ import annotations

import os
from typing import Any


def settings() -> dict[str, Any]:
    return {
        "ALGORITHMS": ["ES256"],
        "OIDC_ISSUER": os.environ["RESOURCE_ISSUER"],
        "AUDIENCE": "https://api.example",
        "EXPECTED_TYPE": "at+jwt",
        "DPOP": "required",
        "DPOP_NONCES": [os.environ["RESOURCE_NONCE_SECRET"]],
        "DPOP_REPLAY_STORE": f"sqlite:///{os.environ['RESOURCE_REPLAY_DB']}",
        "RESOURCE_METADATA": {
            "resource": "https://api.example",
            "authorization_servers": [os.environ["RESOURCE_ISSUER"]],
        },
    }
