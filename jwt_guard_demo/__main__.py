"""``python -m jwt_guard_demo``: serve the demo (see :mod:`jwt_guard_demo.server`)."""

import sys

from .server import main

sys.exit(main())
