"""A drift exporter for tests: an HTTP server on loopback exposing one gauge per test case, values set by the test."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from aigov.devcluster import LOOPBACK

METRIC = "aigov_test_drift"


class Exporter:
    """Serves `aigov_test_drift{case="..."}` for every case in `values`."""

    def __init__(self) -> None:
        self.values: dict[str, float] = {}
        values = self.values

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                lines = [f"# TYPE {METRIC} gauge"] + [f'{METRIC}{{case="{k}"}} {v}' for k, v in list(values.items())]
                body = ("\n".join(lines) + "\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def query(self, case: str) -> str:
        """The PromQL a check uses for `case`."""
        return f'max({METRIC}{{case="{case}"}})'

    def set(self, case: str, value: float | None, prometheus_url: str, timeout: float = 15.0) -> None:
        """Serve `value` for `case` (None: no series) and wait until Prometheus answers the query with it."""
        if value is None:
            self.values.pop(case, None)
        else:
            self.values[case] = value
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = httpx.get(f"{prometheus_url}/api/v1/query", params={"query": self.query(case)}).json()
            result = answer["data"]["result"]
            if (not result) if value is None else bool(result) and float(result[0]["value"][1]) == value:
                return
            time.sleep(0.2)
        raise AssertionError(f"Prometheus did not see {self.query(case)} = {value} within {timeout:.0f}s")
