"""A small client for the sandbox's admin API, used by the demo, the tests and the benchmarks."""

from __future__ import annotations

from typing import Any

import httpx


class SandboxAdmin:
    """Change the sandbox's state over its admin API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url + "/_admin", timeout=30)

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        response = self.http.request(method, path, json=json)
        response.raise_for_status()
        return response.json()

    def reset(self, seed: str = "demo", accounts: int = 50, posts: int = 40) -> Any:
        return self._call("POST", "/reset", {"seed": seed, "accounts": accounts, "posts": posts})

    def account(self, slug: str) -> Any:
        return self._call("GET", f"/accounts/{slug}")

    def patch_account(self, slug: str, **changes: Any) -> Any:
        return self._call("PATCH", f"/accounts/{slug}", changes)

    def add_post(self, slug: str, text: str, **fields: Any) -> str:
        return str(self._call("POST", f"/accounts/{slug}/posts", {"text": text, **fields})["id"])

    def edit_post(self, slug: str, post_id: str, **changes: Any) -> Any:
        return self._call("PATCH", f"/accounts/{slug}/posts/{post_id}", changes)

    def delete_post(self, slug: str, post_id: str) -> Any:
        return self._call("DELETE", f"/accounts/{slug}/posts/{post_id}")

    def add_comment(self, slug: str, post_id: str, author: str, text: str) -> str:
        body = {"author": author, "text": text}
        return str(self._call("POST", f"/accounts/{slug}/posts/{post_id}/comments", body)["id"])

    def edit_comment(self, slug: str, post_id: str, comment_id: str, text: str) -> Any:
        return self._call("PATCH", f"/accounts/{slug}/posts/{post_id}/comments/{comment_id}", {"text": text})

    def delete_comment(self, slug: str, post_id: str, comment_id: str) -> Any:
        return self._call("DELETE", f"/accounts/{slug}/posts/{post_id}/comments/{comment_id}")

    def expire_sessions(self, slug: str) -> Any:
        return self._call("POST", f"/accounts/{slug}/expire-sessions")

    def inbox(self) -> list[dict[str, Any]]:
        """Webhook messages the sandbox received at /_admin/inbox/NAME."""
        return list(self._call("GET", "/inbox"))

    def server(self, **changes: Any) -> Any:
        return self._call("PATCH", "/server", changes)

    def close(self) -> None:
        self.http.close()
