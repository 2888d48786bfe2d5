"""``python -m jwt_guard_core.cli``: the ``jwt-guard`` command without the script."""

import sys

from . import main

sys.exit(main())
