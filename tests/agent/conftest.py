"""Fixtures for agent tests that run real captures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agent.browser import BrowserHost
from agent.recorder import RunReport
from agent.runner import Runner
from agent.services import open_services
from agent.settings import load_settings
from tests.conftest import run_async

Check = Callable[..., RunReport]


@pytest.fixture
def check(config_file: Path, shared_browser: BrowserHost) -> Check:
    """Run one account through the real runner (shared Chromium); returns its report."""

    def run(account_id: str, config: Path = config_file, force_login: bool = False) -> RunReport:
        settings = load_settings(config)
        services = open_services(settings)

        async def go() -> RunReport:
            return await Runner(services, shared_browser).check(settings.account(account_id), force_login)

        try:
            return run_async(go)
        finally:
            services.close()

    return run
