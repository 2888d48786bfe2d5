"""One service instance on the shared test token, run as its own process by the tests.

``python -m tests.signing._pkcs11_instance PREFIX LOCK_FILE NOW [EMERGENCIES]``:
opens the store, prints ``ready`` and waits for a line on stdin (so that
the instances start their rotation together), runs the scheduled
maintenance at time NOW, issues a token and prints one JSON line: the kid
it created (or null), the active kid and the token. With EMERGENCIES, it
then runs that many emergency rotations before printing.
"""

from __future__ import annotations

import json
import sys

from jwt_guard_core.signing import KeyManager, TokenIssuer
from jwt_guard_core.signing.pkcs11_store import Pkcs11KeyStore
from tests.signing.softhsm import MODULE, PIN_ENV, TOKEN


def main() -> None:
    prefix, lock_file, now = sys.argv[1:4]
    emergencies = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    store = Pkcs11KeyStore(
        MODULE, token_label=TOKEN, pin_env=PIN_ENV, prefix=prefix, lock_file=lock_file
    )
    manager = KeyManager(store, clock=lambda: float(now), auto_rotate=False)
    print("ready", flush=True)
    sys.stdin.readline()
    outcome = manager.maybe_rotate()
    issuer = TokenIssuer(manager, issuer="https://auth.example", audience="https://api.example")
    token = issuer.issue_access_token("user-1")
    for _ in range(emergencies):
        manager.emergency_rotate(reason="test")
    print(
        json.dumps({"created": outcome.created, "active": manager.active_key().kid, "token": token})
    )
    store.close()


if __name__ == "__main__":
    main()
