"""The field-selector mini language of the generic adapter."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from flows.selectors import SelectorMap, split_field_selector


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (".author", (".author", None)),
        ("@data-id", (None, "data-id")),
        ("time@datetime", ("time", "datetime")),
        ('a[href^="mailto:x@y"]', ('a[href^="mailto:x@y"]', None)),
        ('a[title="x"]@href', ('a[title="x"]', "href")),
    ],
)
def test_split_field_selector(text: str, expected: tuple[str | None, str | None]) -> None:
    assert split_field_selector(text) == expected


def test_selector_map_refuses_unknown_keys_and_empty_selectors() -> None:
    with pytest.raises(ValidationError) as info:
        SelectorMap(post="article", author="", text=".t", profile_name="h1", psot="x")  # type: ignore[call-arg]
    kinds = {e["type"] for e in info.value.errors()}
    assert kinds == {"extra_forbidden", "value_error"}


def test_unbalanced_brackets_are_refused() -> None:
    with pytest.raises(ValidationError, match="unbalanced brackets"):
        SelectorMap(post="article[data-id", author=".a", text=".t", profile_name="h1")
