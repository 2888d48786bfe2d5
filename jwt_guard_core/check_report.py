"""The start-up check as a text report (``flask jwt-guard check``; Django's is ``check --deploy``).

Settings, routes and remote key sets, one line per finding with its hint
indented, and whether the check failed.
"""

from __future__ import annotations

from collections.abc import Sequence

from .config import GuardConfig
from .settings import Finding, GuardSettings, findings
from .startup import key_set_findings


def check_report(
    settings: GuardSettings, routes: Sequence[Finding], config: GuardConfig
) -> tuple[list[str], str | None]:
    """The report's lines, and the failure to exit with when a finding is an error (else ``None``).

    ``routes`` are the adapter's route findings; every remote key set of
    ``config`` is fetched now.
    """
    found = [*findings(settings), *routes, *key_set_findings(settings, config)]
    lines: list[str] = []
    for finding in found:
        lines.append(f"{'ERROR' if finding.error else 'WARNING'}: {finding.message}")
        if finding.hint:
            lines.append(f"    {finding.hint}")
    errors = sum(1 for f in found if f.error)
    if errors:
        return lines, f"{errors} error(s) found"
    return [*lines, f"jwt-guard: no errors ({len(found)} warning(s))"], None
