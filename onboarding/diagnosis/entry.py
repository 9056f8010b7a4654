"""One catalogue entry: what went wrong in an admin's words, the fix as numbered steps,
and the wizard step that holds the fix."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Diagnosis:
    key: str
    title: str
    explanation: str
    fix: tuple[str, ...]
    wizard_step: int | None
    transient: bool = False
    # Filled in for errors the catalogue does not know: Microsoft's words, verbatim.
    microsoft_code: str = ""
    microsoft_message: str = ""
    correlation_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def entry(
    key: str,
    title: str,
    explanation: str,
    fix: tuple[str, ...],
    step: int | None,
    *,
    transient: bool = False,
) -> Diagnosis:
    return Diagnosis(key, title, explanation, fix, step, transient)
