"""milvus-lite's gRPC server on loopback: one Milvus shared by several processes, for tests and CI.

An embedded milvus-lite ``.db`` can be opened by one process at a time; its server mode lets
several service processes (and the test suite) share one database as they would share a
Milvus cluster. ``python -m index.milvus_server DB [--port N]`` prints the URI, then serves
until it is terminated (.ci/run starts it this way).
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import time
from pathlib import Path

__all__ = ["LiteServer", "free_port"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiteServer:
    """Start, wait until it answers, stop. The database file name must be short and plain (milvus-lite's rule)."""

    def __init__(self, db: Path, port: int | None = None) -> None:
        from milvus_lite.server import Server

        self.db = Path(db)
        self.port = port or free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self._server = Server(str(self.db), address=f"127.0.0.1:{self.port}")

    def start(self, timeout_s: float = 60.0) -> LiteServer:
        from index.backends.milvus import connect

        if not (self._server.init() and self._server.start()):
            raise RuntimeError(f"milvus-lite did not start on {self.db} (is another process using it?)")
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                connect(self.uri).list_collections()
                return self
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.5)

    def stop(self) -> None:
        self._server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("db", type=Path)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    server = LiteServer(args.db, args.port).start()
    print(server.uri, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (server.stop(), sys.exit(0)))
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
