"""A TCP proxy on loopback that a test can stop or freeze, to play a service outage.

`open`: bytes flow both ways to the target. `stop()`: the port refuses connections, as a
crashed server. `freeze()`: connections are accepted and then nothing answers, as a hung one
(the case where a client without its own timeout waits for minutes).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator


class Proxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.frozen = False
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._server.settimeout(0.2)
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def freeze(self) -> None:
        self.frozen = True

    def stop(self) -> None:
        """Close the port: connections are refused from now on."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._server.close()
        for s in self._held:
            with contextlib.suppress(OSError):
                s.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            if self.frozen:
                self._held.append(client)  # accepted, never answered
                continue
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        pair = {client: upstream, upstream: client}
        try:
            while not self._stop.is_set():
                if self.frozen:  # stop moving bytes on connections already open too
                    self._stop.wait(0.2)
                    continue
                ready, _, _ = select.select(list(pair), [], [], 0.2)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    pair[s].sendall(data)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()


@contextlib.contextmanager
def proxy(host: str, port: int) -> Iterator[Proxy]:
    p = Proxy(host, port)
    try:
        yield p
    finally:
        p.stop()
