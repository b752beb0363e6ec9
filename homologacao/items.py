"""One finding of a check (`Item`), and the shape of a rule: a name, a source reference, a severity, a fix
for the integrator (in Portuguese) and a small check. A check says ok, failed, or unknown (None); unknown
is always a warning, never a pass, because a person must look before the package goes to the utility.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from homologacao.documents import Evidence
from homologacao.facts import Facts

Severity = Literal["error", "warning"]


class Item(BaseModel):
    rule: str = Field(description="Rule name.")
    ok: bool
    severity: Severity = Field(description="error: the utility would refuse it; warning: a person must look.")
    message: str = Field(description="What was found.")
    evidence: list[Evidence] = Field(default_factory=list)
    fix: str | None = Field(default=None, description="What the integrator should do (when not ok).")
    source: str = Field(description="Regulation the rule comes from.")


@dataclass(frozen=True)
class Outcome:
    ok: bool | None  # None: cannot tell from the package and the catalog
    message: str
    evidence: list[Evidence] = field(default_factory=list)
    fix: str | None = None  # instead of the rule's fix


@dataclass(frozen=True)
class Rule:
    name: str
    source: str
    severity: Severity
    fix: str
    check: Callable[[Facts], Iterable[Outcome]]

    def apply(self, facts: Facts) -> list[Item]:
        return [
            Item(
                rule=self.name,
                ok=bool(outcome.ok),
                severity=self.severity if outcome.ok is not None else "warning",
                message=outcome.message,
                evidence=outcome.evidence,
                fix=None if outcome.ok else (outcome.fix or self.fix),
                source=self.source,
            )
            for outcome in self.check(facts)
        ]
