"""Docs are part of the product: every setting, command and platform is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from pydantic import BaseModel

from agent.cli import cli, load_all_commands
from agent.detect.config import KINDS, CustomRule, PolicySettings, RuleSetSettings, RulesSettings
from agent.settings import (
    Account,
    AlertSettings,
    CredentialSettings,
    EvidenceSettings,
    LinkSettings,
    RetentionSettings,
    RouteSettings,
    Settings,
    WebSettings,
)
from flows import registry
from flows.selectors import LoginSteps, SelectorMap
from flows.webscope import WebsiteScope

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def sections(text: str) -> dict[str, str]:
    """Markdown split at headings: heading line -> body."""
    parts = re.split(r"^(#{2,3} .*)$", text, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


TABLES: list[tuple[str, type[BaseModel]]] = [
    ("[agent]", Settings.model_fields["agent"].annotation),  # type: ignore[list-item]
    ("[browser]", Settings.model_fields["browser"].annotation),  # type: ignore[list-item]
    ("[[accounts]]", Account),
    ("[accounts.credentials]", CredentialSettings),
    ("[accounts.login]", LoginSteps),
    ("[accounts.selectors]", SelectorMap),
    ("[alerts]", AlertSettings),
    ("[[alerts.routes]]", RouteSettings),
    ("[web]", WebSettings),
    ("[retention]", RetentionSettings),
    ("[evidence]", EvidenceSettings),
    ("[links]", LinkSettings),
    ("[accounts.website]", WebsiteScope),
    ("[policy]", PolicySettings),
    ("[rules]", RulesSettings),
    ("[rules.personal_data]", RuleSetSettings),
    ("[[rules.custom]]", CustomRule),
]


@pytest.mark.parametrize(("table", "model"), TABLES, ids=[t for t, _ in TABLES])
def test_every_setting_is_documented_in_its_table(table: str, model: type[BaseModel]) -> None:
    docs = sections((DOCS / "configuration.md").read_text())
    body = next((b for h, b in docs.items() if f"`{table}`" in h), None)
    assert body is not None, f"docs/configuration.md has no section for {table}"
    nested = {"credentials", "login", "selectors"} if model is Account else set()
    missing = [k for k in model.model_fields if k not in nested and f"| `{k}` |" not in body]
    assert missing == [], f"undocumented keys in {table}: {missing}"


def command_paths(group: click.Group, prefix: str = "civicwatch") -> list[str]:
    paths = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            paths += command_paths(command, path)
        else:
            paths.append(path)
    return paths


load_all_commands()


@pytest.mark.parametrize("path", command_paths(cli))
def test_every_command_is_documented(path: str) -> None:
    assert f"`{path}" in (DOCS / "cli.md").read_text(), f"{path} is not in docs/cli.md"


@pytest.mark.parametrize("name", registry.names())
def test_every_platform_is_documented(name: str) -> None:
    assert f"| `{name}` |" in (DOCS / "platforms.md").read_text()


def test_readme_shows_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```sh\n(.*?)\n```", readme, flags=re.DOTALL)
    assert commands[:2] == ["scripts/bootstrap demo", "scripts/bootstrap test"]
    assert "exec scripts/bootstrap test" in (ROOT / ".ci" / "run").read_text()


def test_docs_link_to_files_that_exist() -> None:
    for doc in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", doc.read_text()):
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"


@pytest.mark.parametrize("kind", KINDS)
def test_every_finding_kind_is_documented(kind: str) -> None:
    assert f"| `{kind}` |" in (DOCS / "detection.md").read_text()


@pytest.mark.parametrize("rule_set", ["personal_data", "profanity", "harassment", "political", "spam"])
def test_every_rule_set_is_documented(rule_set: str) -> None:
    assert f"| `{rule_set}` |" in (DOCS / "detection.md").read_text()
