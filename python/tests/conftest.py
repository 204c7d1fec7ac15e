"""Shared pytest hooks: the conformance summary line and skip map."""

from __future__ import annotations

from typing import Any

import _corpus


def pytest_terminal_summary(terminalreporter: Any) -> None:
    covered, total, missing, skipped = _corpus.coverage()
    tr = terminalreporter
    tr.section("conformance (python)")
    if skipped:
        tr.write_line("skip map (python):")
        for sid, reason in sorted(skipped.items()):
            tr.write_line(f"  {sid}: {reason}")
    else:
        tr.write_line("skip map (python): empty")
    if missing:
        tr.write_line(f"catalogue entries with no scenario: {', '.join(missing)}")
    tr.write_line(
        f"conformance: {covered}/{total} catalogue entries covered, {len(skipped)} skipped"
    )
