"""The labelled corpus of municipal posts and comments, and precision/recall over it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agent.detect.config import RulesSettings
from agent.detect.content.rules import ContentRules

CORPUS = Path(__file__).with_name("corpus.tsv")
RULE_SETS = ("personal_data", "profanity", "harassment", "political", "spam")
SETTINGS = RulesSettings(
    candidates=["Mike Carter", "Jane Whitmore"],
    city_phone_numbers=["(217) 555-0100"],
    city_email_domains=["springfield.gov"],
    city_addresses=["100 Main Street"],
)


@dataclass(frozen=True)
class Sample:
    line: int
    by_public: bool
    labels: frozenset[str]
    text: str


def samples() -> Iterator[Sample]:
    for number, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        author, labels, text = line.split("\t")
        yield Sample(number, author == "public", frozenset() if labels == "-" else frozenset(labels.split(",")), text)


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def evaluate(rules: ContentRules | None = None) -> tuple[dict[str, Score], list[str]]:
    """Score per rule set, and a line for every mistake."""
    rules = rules or ContentRules(SETTINGS)
    scores = {name: Score() for name in RULE_SETS}
    mistakes = []
    for sample in samples():
        found = {h.rule_set for h in rules.scan(sample.text, by_public=sample.by_public)}
        for name in RULE_SETS:
            expected, got = name in sample.labels, name in found
            score = scores[name]
            if expected and got:
                score.tp += 1
            elif got:
                score.fp += 1
                mistakes.append(f"FP {name:<13} line {sample.line}: {sample.text}")
            elif expected:
                score.fn += 1
                mistakes.append(f"FN {name:<13} line {sample.line}: {sample.text}")
            else:
                score.tn += 1
    return scores, mistakes


def report() -> str:
    """The table for docs/detection.md."""
    scores, _ = evaluate()
    total = sum(1 for _ in samples())
    lines = [f"{total} labelled texts", "", "| rule set | positives | precision | recall |", "|---|---|---|---|"]
    for name, s in scores.items():
        lines.append(f"| {name} | {s.tp + s.fn} | {s.precision:.3f} | {s.recall:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
    for mistake in evaluate()[1]:
        print(mistake)
