"""`civicwatch demo`: a complete installation against the built-in sandbox network.

It writes what an administrator would write (a config file and secret files, the
passwords in files, never in the config), then runs the same code as `civicwatch check`.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from sandbox.seed import DEMO_PASSWORDS, DEMO_TOTP

#: the sandbox's preferred port: a fixed port keeps absolute link URLs stable across demos
DEMO_PORT = 8471


def pick_port(preferred: int = DEMO_PORT, host: str = "127.0.0.1") -> int:
    """``preferred`` when free, else 0 (any free port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, preferred))
        except OSError:
            return 0
    return preferred


def _q(value: str | Path) -> str:
    return json.dumps(str(value))


def demo_config(base_url: str, data_dir: Path) -> str:
    """The demo's civicwatch.toml (secrets are file: references next to it); pure."""
    return f"""# Written by `civicwatch demo`. Four accounts on the built-in sandbox network.
# "parks" is read by the generic adapter from the selectors below; the others by the
# sandbox adapter. Passwords live in files under secrets/, referenced with file:.

[agent]
data_dir = {_q(data_dir)}
concurrency = 2
# The demo stores a few MB; a city's installation keeps the default (1 GiB must stay free).
min_free_space = "100 MiB"

[browser]
allowed_hosts = ["127.0.0.1"]

# The sandbox's links point at loopback, which civicwatch refuses to fetch unless allowed.
[links]
allow_private = ["127.0.0.0/8"]

# Alerts go to the sandbox's test inbox (a JSON webhook); a city would use mailtos://, Teams...
[alerts]
portal_url = "http://127.0.0.1:8470"

[[alerts.routes]]
name = "supervisors"
channels = ["json://{base_url.removeprefix('http://')}/_admin/inbox/supervisors"]
default = true

[[accounts]]
id = "parks"
name = "Springfield Parks & Rec"
platform = "generic"
url = "{base_url}/p/parks"
department = "Parks"
authorized_authors = ["Springfield Parks & Rec", "Jane Okafor", "Luis Ramos"]
public_posting = false
public_comments = true
schedule = "every 30m"
max_posts = 50
[accounts.credentials]
username = "parks@springfield.example"
password = "file:secrets/parks.password"
[accounts.login]
url = "{base_url}/login"
username = "#user"
password = "#pass"
submit = "button[type=submit]"
otp = "#otp"
otp_submit = "#otp-go"
success = ".signed-in"
failure = ".error"
checkpoint = ".checkpoint"
settings_url = "{base_url}/settings/parks"
public_posting_setting = "#allow-public-posts"
[accounts.selectors]
post = "article.post"
post_id = "@data-id"
author = ".author"
publisher = ".published-by"
visitor_post = ".by-visitor"
time = "time@datetime"
text = ".body"
link = "a[href]"
comment = ".comment"
comment_id = "@data-comment-id"
comment_author = ".comment-author"
comment_text = ".comment-text"
comment_time = "time@datetime"
visitor_composer = "form.visitor-post"
profile_name = "h1"
profile_bio = ".bio"
profile_links = ".profile a"
profile_avatar = "img.avatar@src"
feed_end = ".feed-end"

[[accounts]]
id = "library"
name = "Springfield Public Library"
platform = "sandbox"
url = "{base_url}/p/library"
department = "Library"
authorized_authors = ["Springfield Public Library", "Ruth Adeyemi"]
public_posting = false
schedule = "every 1h"
[accounts.credentials]
username = "library@springfield.example"
password = "file:secrets/library.password"
totp_secret = "file:secrets/library.totp"

[[accounts]]
id = "police"
name = "Springfield Police Department"
platform = "sandbox"
url = "{base_url}/p/police"
department = "Police"
authorized_authors = ["Springfield Police Department", "Sgt. Dana Ortiz", "Officer Ben Hale"]
public_posting = false
public_comments = true
schedule = "cron: 15 * * * *"
[accounts.credentials]
username = "police@springfield.example"
password = "file:secrets/police.password"

# The city's own web site: pages crawled one link deep from the home page, every link checked.
[[accounts]]
id = "city-site"
name = "City of Springfield web site"
platform = "website"
url = "{base_url}/site/"
department = "Communications"
schedule = "every 6h"
[accounts.website]
depth = 1
max_pages = 8
include = ["/site/"]
"""


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def write_demo_files(data_dir: Path, base_url: str) -> Path:
    """Write the secret files and the config under ``data_dir/demo``; returns the config path."""
    demo_dir = data_dir / "demo"
    for slug, password in DEMO_PASSWORDS.items():
        _write_private(demo_dir / "secrets" / f"{slug}.password", password + "\n")
    for slug, seed in DEMO_TOTP.items():
        _write_private(demo_dir / "secrets" / f"{slug}.totp", seed + "\n")
    config = demo_dir / "civicwatch.toml"
    config.write_text(demo_config(base_url, data_dir.resolve()), encoding="utf-8")
    return config
