"""Settings: one schema for both adapters, read into one frozen object.

* :mod:`jwt_guard_core.settings.schema`: every setting once (name, Django
  and Flask spelling, default, reader, doc, group);
* :class:`GuardSettings`: an adapter's mapping read against it; builds the
  verifier's :class:`~jwt_guard_core.GuardConfig` and the request settings,
  and hands the issuing and sessions groups to their core settings classes;
* :func:`findings`: what is wrong or risky, for Django's system checks and
  Flask's start-up warnings.
"""

from .audit import Finding, findings
from .loaded import GuardSettings, RequestSettings, import_object
from .schema import ISSUING_DEFAULTS, SESSIONS_DEFAULTS, SETTINGS, Setting, adapter_defaults

__all__ = [
    "ISSUING_DEFAULTS",
    "SESSIONS_DEFAULTS",
    "SETTINGS",
    "Finding",
    "GuardSettings",
    "RequestSettings",
    "Setting",
    "adapter_defaults",
    "findings",
    "import_object",
]
