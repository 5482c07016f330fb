#!/usr/bin/env python3
"""Seeds from the real OpenTelemetry Python SDK: runs tests/apps/shop.py exporting OTLP/HTTP
with gzip to a local capture server, and writes the smallest request of each signal as seeds:
decompressed into fuzz/seeds/ingest_<signal>/, compressed into fuzz/seeds/gzip_body/.

    fuzz/capture_sdk.py [--python target/e2e-venv/bin/python]

The venv is the end-to-end tests' (`cargo test --test e2e_receive` creates it from
tests/apps/requirements.txt). examples/seeds.rs writes the other seeds.
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
REPO = FUZZ.parent
SIGNALS = ("traces", "metrics", "logs")


class Capture(BaseHTTPRequestHandler):
    """Keeps every export request's body, answering as an OTLP/HTTP receiver does."""

    bodies: dict[str, list[bytes]] = {signal: [] for signal in SIGNALS}

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        signal = self.path.rsplit("/", 1)[-1]
        if signal in self.bodies and self.headers.get("Content-Encoding") == "gzip":
            self.bodies[signal].append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=str(REPO / "target/e2e-venv/bin/python"))
    parser.add_argument("--requests", type=int, default=2)
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    subprocess.run(
        [
            args.python,
            str(REPO / "tests/apps/shop.py"),
            "--protocol", "http",
            "--endpoint-http", f"http://127.0.0.1:{port}",
            "--environment", "prod",
            "--requests", str(args.requests),
        ],
        env={"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip", "PATH": "/usr/bin:/bin"},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    server.shutdown()

    for signal in SIGNALS:
        bodies = Capture.bodies[signal]
        if not bodies:
            print(f"no {signal} captured", file=sys.stderr)
            return 1
        smallest = min(bodies, key=len)
        write(FUZZ / "seeds" / f"ingest_{signal}" / f"sdk-python-{signal}.pb",
              gzip.decompress(smallest))
        write(FUZZ / "seeds" / "gzip_body" / f"sdk-python-{signal}.pb.gz", smallest)
    return 0


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    print(f"{len(data):>7} bytes  {path}")


if __name__ == "__main__":
    sys.exit(main())
