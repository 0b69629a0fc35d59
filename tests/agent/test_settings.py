"""Settings: TOML, environment overrides, secret references, and errors that name the key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.settings import SecretValue, load_settings
from tests.conftest import run_cli

MINIMAL = """
[agent]
data_dir = "data"
[[accounts]]
id = "parks"
name = "Parks"
platform = "sandbox"
url = "http://127.0.0.1:8000/p/parks"
[accounts.credentials]
username = "parks@springfield.example"
password = "env:CW_TEST_PARKS_PASSWORD"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "civicwatch.toml"
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CW_TEST_PARKS_PASSWORD", "s3cret-canary-1")


def problems(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return str(info.value)


def test_valid_file_loads_with_relative_paths_resolved_against_the_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL))
    assert settings.agent.data_dir == tmp_path / "data"
    assert settings.account("parks").credentials.password.get_secret_value() == "s3cret-canary-1"
    assert settings.source == (tmp_path / "civicwatch.toml").resolve()


def test_typo_in_a_key_names_file_key_and_the_likely_intended_key(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace('data_dir = "data"', 'data_dri = "data"'))
    text = problems(path)
    assert str(path) in text
    assert "agent.data_dri: unknown key (did you mean 'data_dir'?)" in text


def test_wrong_type_in_account_table_is_named(tmp_path: Path) -> None:
    text = MINIMAL.replace('platform = "sandbox"', 'platform = "sandbox"\nmax_posts = "lots"')
    assert 'accounts[0] (id "parks").max_posts: Input should be a valid integer' in problems(write(tmp_path, text))


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICWATCH_AGENT__CONCURRENCY", "7")
    settings = load_settings(write(tmp_path, MINIMAL + "\n"))
    assert settings.agent.concurrency == 7


def test_bad_environment_value_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICWATCH_AGENT__CONCURRENCY", "seven")
    assert "agent.concurrency (from environment variable CIVICWATCH_AGENT__CONCURRENCY)" in problems(
        write(tmp_path, MINIMAL)
    )


def test_missing_environment_secret_names_the_variable_but_no_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CW_TEST_PARKS_PASSWORD")
    text = problems(write(tmp_path, MINIMAL))
    assert "credentials.password: environment variable CW_TEST_PARKS_PASSWORD is not set" in text


def test_file_secret_is_read_stripped_and_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("from-a-file\n")
    settings = load_settings(write(tmp_path, MINIMAL.replace("env:CW_TEST_PARKS_PASSWORD", "file:pw")))
    password = settings.account("parks").credentials.password
    assert isinstance(password, SecretValue)
    assert password.get_secret_value() == "from-a-file"
    assert password.source == "file:pw"
    assert "from-a-file" not in repr(settings) and "from-a-file" not in str(password)


def test_missing_secret_file_is_named(tmp_path: Path) -> None:
    text = problems(write(tmp_path, MINIMAL.replace("env:CW_TEST_PARKS_PASSWORD", "file:nope")))
    assert f"secret file {tmp_path / 'nope'} does not exist" in text


def test_a_totp_seed_written_as_the_site_shows_it_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "seed").write_text("jbsw y3dp ehpk 3pxp\n")
    settings = load_settings(write(tmp_path, MINIMAL + 'totp_secret = "file:seed"\n'))
    seed = settings.account("parks").credentials.totp_secret
    assert seed is not None and seed.get_secret_value() == "JBSWY3DPEHPK3PXP" and seed.source == "file:seed"


def test_a_totp_seed_that_is_not_base32_is_named_without_its_value(tmp_path: Path) -> None:
    (tmp_path / "seed").write_text("otpauth-copy-error!\n")
    text = problems(write(tmp_path, MINIMAL + 'totp_secret = "file:seed"\n'))
    assert "credentials.totp_secret: file:seed is not a TOTP seed: expected the base32 text" in text
    assert "otpauth-copy-error" not in text


def test_systemd_credential_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "parks").write_text("cred-value")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "creds"))
    settings = load_settings(write(tmp_path, MINIMAL.replace("env:CW_TEST_PARKS_PASSWORD", "cred:parks")))
    assert settings.account("parks").credentials.password.get_secret_value() == "cred-value"


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[agent]\ndata_dir = \n")
    text = problems(path)
    assert str(path) in text and "not valid TOML" in text and "line 2" in text


def test_missing_file_explains_how_to_give_one(tmp_path: Path) -> None:
    text = problems(tmp_path / "absent.toml")
    assert "does not exist" in text and "--config" in text


def test_duplicate_account_ids_are_refused(tmp_path: Path) -> None:
    accounts = MINIMAL.split("[[accounts]]", 1)[1]
    assert "account id 'parks' is used twice" in problems(write(tmp_path, MINIMAL + "[[accounts]]" + accounts))


def test_bad_account_id_schedule_and_url_are_each_reported(tmp_path: Path) -> None:
    text = MINIMAL.replace('id = "parks"', 'id = "Parks Dept"').replace(
        'url = "http://127.0.0.1:8000/p/parks"', 'url = "ftp://x"\nschedule = "every 10s"'
    )
    out = problems(write(tmp_path, text))
    assert ".id: String should match pattern" in out
    assert "schedule: 'every 10s' is too frequent" in out
    assert "url: 'ftp://x' is not an http(s) URL" in out


def test_generic_account_without_selectors_is_refused(tmp_path: Path) -> None:
    out = problems(write(tmp_path, MINIMAL.replace('platform = "sandbox"', 'platform = "generic"')))
    assert "platform 'generic' needs an [accounts.selectors] table" in out


def test_unknown_platform_lists_the_known_ones(tmp_path: Path) -> None:
    out = problems(write(tmp_path, MINIMAL.replace('platform = "sandbox"', 'platform = "myspace"')))
    assert "unknown platform 'myspace'; known: generic, sandbox" in out


def test_config_check_exits_2_and_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("[agent]", "[agent]\nconcurency = 2"))
    result = run_cli("--config", str(path), "config", "check")
    assert result.exit_code == 2
    assert "agent.concurency: unknown key (did you mean 'concurrency'?)" in result.stderr


def test_config_check_summarises_without_printing_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    result = run_cli("--config", str(path), "config", "check")
    assert result.exit_code == 0, result.stderr
    assert "parks" in result.stdout and "password=env:CW_TEST_PARKS_PASSWORD" in result.stdout
    assert "configuration OK" in result.stdout
    assert "s3cret-canary-1" not in result.stdout + result.stderr


def test_config_check_warns_about_passwords_written_in_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("env:CW_TEST_PARKS_PASSWORD", "plain-text-pw"))
    result = run_cli("--config", str(path), "config", "check")
    assert result.exit_code == 0
    assert "credentials.password is written in the file" in result.stderr
    assert "plain-text-pw" not in result.stdout + result.stderr


def test_config_check_warns_that_a_feature_flag_replaces_playwrights(tmp_path: Path) -> None:
    extra = '[browser]\nargs = ["--disable-gpu", "--disable-features=Translate"]\n'
    path = write(tmp_path, extra + MINIMAL)
    result = run_cli("--config", str(path), "config", "check")
    assert result.exit_code == 0, result.stderr
    assert "[browser] args: --disable-features replaces the one Playwright passes" in result.stderr
    assert "--disable-gpu" not in result.stderr
    assert "1 warning(s)" in result.stdout


def test_config_path_comes_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    result = run_cli("config", "check", env={"CIVICWATCH_CONFIG": str(path), **os.environ})
    assert result.exit_code == 0, result.stderr
    assert str(path.resolve()) in result.stdout


def test_link_checks_use_the_proxy_variables_chromium_uses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("https_proxy", "http://proxy.springfield.gov:3128")
    monkeypatch.setenv("no_proxy", "localhost, .springfield.gov")
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    policy = load_settings(write(tmp_path, MINIMAL)).links.policy()
    assert str(policy.https_proxy) == "http://proxy.springfield.gov:3128" and policy.http_proxy is None
    assert policy.no_proxy == ("localhost", ".springfield.gov")
    assert policy.proxy_for("https", "www.example.org", 443) == policy.https_proxy
    assert policy.proxy_for("https", "www.springfield.gov", 443) is None


def test_the_links_proxy_setting_overrides_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("https_proxy", "http://proxy.springfield.gov:3128")
    off = load_settings(write(tmp_path, MINIMAL + '[links]\nproxy = "none"\n')).links.policy()
    assert off.https_proxy is None and off.http_proxy is None
    monkeypatch.setenv("CW_TEST_PROXY", "http://linkcheck:pr0xy-canary@10.0.0.8:8080")
    own = load_settings(write(tmp_path, MINIMAL + '[links]\nproxy = "env:CW_TEST_PROXY"\n')).links.policy()
    assert str(own.http_proxy) == str(own.https_proxy) == "http://10.0.0.8:8080"


def test_a_proxy_the_checker_cannot_use_is_named_with_where_it_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("https_proxy", "socks5://proxy.springfield.gov:1080")
    assert "the environment variable https_proxy: a socks5:// proxy is not supported" in problems(
        write(tmp_path, MINIMAL))
    monkeypatch.delenv("https_proxy")
    assert "[links] proxy: a proxy URL is only http://host:port" in problems(
        write(tmp_path, MINIMAL + '[links]\nproxy = "http://proxy:3128/pac"\n'))


def test_config_check_says_how_links_are_reached_without_the_proxy_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    path = write(tmp_path, MINIMAL + '[links]\nproxy = "http://linkcheck:pr0xy-canary@10.0.0.8:8080"\n')
    result = run_cli("--config", str(path), "config", "check")
    assert result.exit_code == 0, result.stderr
    assert "link checks: through the proxy http://10.0.0.8:8080 (from [links] proxy)" in result.stdout
    assert "[links] proxy has credentials written in the file" in result.stderr
    assert "pr0xy-canary" not in result.stdout + result.stderr
