"""``[policy]`` and ``[rules]``: the clauses findings cite, and the content rules.

Defaults cite the model policies shipped in ``policies/`` (Local Government Policy 702,
Queen Creek 785, Pickering ADM 140-007); a city replaces the text with its own clauses.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.detect.content.hits import Severity
from agent.units import check_patterns

Author = Literal["page", "public"]

KINDS = (
    "unauthorized_author",
    "public_posting_enabled",
    "public_post_present",
    "prohibited_content",
    "post_deleted",
    "post_edited",
    "profile_changed",
    "login_failed",
    "capture_failed",
    "structure_changed",
    "broken_link",
)
Kind = Literal[
    "unauthorized_author",
    "public_posting_enabled",
    "public_post_present",
    "prohibited_content",
    "post_deleted",
    "post_edited",
    "profile_changed",
    "login_failed",
    "capture_failed",
    "structure_changed",
    "broken_link",
]
#: kinds about civicwatch's ability to watch, rather than about the account's content
OPERATIONAL_KINDS = ("login_failed", "capture_failed", "structure_changed")

DEFAULT_CLAUSES: dict[str, str] = {
    "unauthorized_author": "702.3 Authorized users: only employees authorized by the Mayor or designee may post",
    "public_posting_enabled": "702.5.1 Public posting prohibited: sites shall prevent posting of content by the public",
    "public_post_present": "702.5.1 Public posting prohibited: sites shall prevent posting of content by the public",
    "prohibited_content": "702.5 Prohibited content",
    "post_deleted": "702.7 Retention of records; QC 785 D.3: removed content and the reason it was removed are retained",
    "post_edited": "702.7 Retention of records: every version of a post is a public record",
    "profile_changed": "702.3 Authorized users: unexpected profile change (possible account takeover)",
    "login_failed": "702.6 Monitoring content: the account could not be signed in to and reviewed",
    "capture_failed": "702.7 Retention of records: the account could not be captured",
    "structure_changed": "702.6 Monitoring content: the page loaded but could not be read",
    "broken_link": "702.4 Authorized content: links published by the City must work",
}
DEFAULT_SEVERITY: dict[str, Severity] = {
    "unauthorized_author": "high",
    "public_posting_enabled": "high",
    "public_post_present": "medium",
    "prohibited_content": "medium",
    "post_deleted": "medium",
    "post_edited": "low",
    "profile_changed": "high",
    "login_failed": "high",
    "capture_failed": "medium",
    "structure_changed": "high",
    "broken_link": "medium",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PolicySettings(_Strict):
    """``[policy]``: clause text and severity per finding kind."""

    clauses: dict[Kind, str] = {}
    severity: dict[Kind, Severity] = {}

    def clause(self, kind: str) -> str:
        return self.clauses.get(kind, DEFAULT_CLAUSES[kind])  # type: ignore[call-overload]

    def severity_of(self, kind: str) -> Severity:
        return self.severity.get(kind, DEFAULT_SEVERITY[kind])  # type: ignore[call-overload]


class RuleSetSettings(_Strict):
    """One built-in rule set: on/off, whose writing it applies to, its severity and clause."""

    enabled: bool = True
    applies_to: list[Author] = ["page", "public"]
    #: overrides every rule's own severity when set
    severity: Severity | None = None
    clause: str = ""

    @model_validator(mode="before")
    @classmethod
    def _bool_shorthand(cls, value: Any) -> Any:
        return {"enabled": value} if isinstance(value, bool) else value


def _set(clause: str, applies_to: list[Author] | None = None) -> Any:
    return Field(default_factory=lambda: RuleSetSettings(clause=clause, applies_to=applies_to or ["page", "public"]))


class CustomRule(_Strict):
    """``[[rules.custom]]``: a city's own keywords or regular expressions."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    keywords: list[str] = []
    patterns: list[str] = []
    severity: Severity = "medium"
    clause: str
    label: str = ""
    applies_to: list[Author] = ["page", "public"]

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        return check_patterns(patterns)

    @model_validator(mode="after")
    def _something_to_match(self) -> CustomRule:
        if not self.keywords and not self.patterns:
            raise ValueError(f"custom rule {self.name!r} needs keywords or patterns")
        return self


class RulesSettings(_Strict):
    """``[rules]``: the content rules applied to every post and comment."""

    personal_data: RuleSetSettings = _set(
        "702.5(b) Privacy and confidentiality; QC 785 E.1.g; Pickering ADM 140-007 App. 1 Posting Personal Information"
    )
    profanity: RuleSetSettings = _set("Pickering ADM 140-007 App. 1 Vulgarity and Masked Vulgarity; QC 785 E.1.a")
    harassment: RuleSetSettings = _set("702.5(a) Abusive or discriminatory content; QC 785 E.1.b-c")
    political: RuleSetSettings = _set("QC 785 B.4 Political support for candidates")
    spam: RuleSetSettings = _set(
        "Pickering ADM 140-007 App. 1 Classified, Commercial or Soliciting Posts; QC 785 E.1.d", ["public"]
    )
    #: candidate names for the political rule set (any mention with a campaign word)
    candidates: list[str] = []
    #: numbers the city itself publishes: never personal data
    city_phone_numbers: list[str] = []
    #: e-mail domains of the city: never personal data
    city_email_domains: list[str] = []
    #: public buildings' addresses: never a home address
    city_addresses: list[str] = []
    extra_profanity: list[str] = []
    extra_slurs: list[str] = []
    #: identical comments at least this many times in one capture are spam
    repeated_comments: int = Field(3, ge=2)
    custom: list[CustomRule] = []

    @model_validator(mode="after")
    def _unique_custom_names(self) -> RulesSettings:
        names = [c.name for c in self.custom]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"custom rule names must be unique: {', '.join(sorted(dupes))}")
        return self
