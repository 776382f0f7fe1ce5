"""A small JSON-over-HTTP client (standard library only) with retries for transient failures."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Optional

#: Statuses worth retrying: the server is restarting, overloaded or throttling.
TRANSIENT_STATUSES = {408, 429, 500, 502, 503, 504}


class VerityError(Exception):
    """A request Verity refused (4xx), or one that kept failing: `status`, `code`, `message`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class Http:
    """Sends requests to one server with one token; retries transient failures with backoff."""

    def __init__(self, url: str, token: Optional[str] = None, timeout: float = 30.0,
                 retries: int = 8, backoff: float = 0.25) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def request(self, method: str, path: str, body: Any = None, *, raw: Optional[bytes] = None,
                content_type: str = "application/json", query: Optional[dict] = None,
                retry: bool = True, binary: bool = False) -> Any:
        """Sends a request; returns the decoded JSON answer (None when empty), or the bytes
        when `binary`."""
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        attempts = self.retries + 1 if retry else 1
        delay = self.backoff
        for attempt in range(attempts):
            request = urllib.request.Request(url, data=data, method=method)
            # A POST always declares its type: the server refuses untyped POSTs (what other
            # sites can make a browser send).
            if data is not None or method == "POST":
                request.add_header("Content-Type", content_type)
            if self.token:
                request.add_header("Authorization", f"Bearer {self.token}")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    text = response.read()
                    if binary:
                        return text
                    return json.loads(text) if text else None
            except urllib.error.HTTPError as e:
                text = e.read()
                try:
                    error = json.loads(text).get("error", {})
                except ValueError:
                    error = {}
                failure = VerityError(e.code, error.get("code", "http_error"),
                                      error.get("message", text.decode(errors="replace")))
                if e.code not in TRANSIENT_STATUSES:
                    raise failure from None
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
                failure = VerityError(0, "unreachable", str(e))
            if attempt + 1 < attempts:
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        raise failure
