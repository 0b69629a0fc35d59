"""A capture's network traffic as WARC (ISO 28500), for replay in standard tools.

Playwright records each browser context's traffic as HAR with the bodies embedded; this
module turns those entries into WARC request/response records after a ``warcinfo`` record
describing the capture. Bodies are stored as the browser received them after decoding, so
``Content-Encoding`` and ``Transfer-Encoding`` are dropped and ``Content-Length`` is set to
the stored length (as Webrecorder's har2warc does).

Credentials never enter the WARC: cookies and authorization headers are redacted, and any
secret civicwatch knows (a password in a login form's body) is masked.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from agent.redact import redact

_HOP_BY_HOP = {"content-encoding", "transfer-encoding", "content-length", "connection", "keep-alive"}
#: credentials: a session cookie is as good as a password, so evidence never holds one
_SECRET_HEADERS = {"cookie", "set-cookie", "authorization", "proxy-authorization", "x-csrf-token", "x-xsrf-token"}
REDACTED = "[redacted by civicwatch]"


def _body(content: Mapping[str, Any]) -> bytes:
    text = content.get("text")
    if text is None:
        return b""
    if content.get("encoding") == "base64":
        return base64.b64decode(text)
    return str(text).encode("utf-8")


def _headers(pairs: Iterable[Mapping[str, str]]) -> list[tuple[str, str]]:
    return [(h["name"], REDACTED if h["name"].lower() in _SECRET_HEADERS else h["value"]) for h in pairs
            if not h["name"].startswith(":") and h["name"].lower() not in _HOP_BY_HOP]


def entries(har_paths: Iterable[Path]) -> list[dict[str, Any]]:
    """The HAR entries of these files that got a response, in time order."""
    out: list[dict[str, Any]] = []
    for path in har_paths:
        if path.exists():
            out += [e for e in json.loads(path.read_text("utf-8"))["log"]["entries"] if e["response"]["status"]]
    return sorted(out, key=lambda e: e["startedDateTime"])


def har_to_warc(har_paths: Iterable[Path], filename: str, info: Mapping[str, str]) -> bytes:
    """One gzipped WARC file with a warcinfo record and every request/response pair."""
    out = BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="WARC/1.1")
    writer.write_record(writer.create_warcinfo_record(filename, dict(info)))
    for entry in entries(har_paths):
        request, response = entry["request"], entry["response"]
        url, date = request["url"], entry["startedDateTime"]
        body = _body(response.get("content", {}))
        status = f"{response['status']} {response.get('statusText') or ''}".strip()
        http = StatusAndHeaders(status, _headers(response["headers"]) + [("Content-Length", str(len(body)))],
                                protocol="HTTP/1.1")
        record = writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=http,
                                           warc_headers_dict={"WARC-Date": date})
        writer.write_record(record)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        # A login form's body holds the password: every known secret is masked.
        posted = redact((request.get("postData") or {}).get("text", "")).encode("utf-8")
        req_http = StatusAndHeaders(f"{request['method']} {target} HTTP/1.1", _headers(request["headers"]),
                                    is_http_request=True)
        writer.write_record(writer.create_warc_record(
            url, "request", payload=BytesIO(posted), http_headers=req_http,
            warc_headers_dict={"WARC-Date": date,
                               "WARC-Concurrent-To": record.rec_headers.get_header("WARC-Record-ID")},
        ))
    return out.getvalue()
