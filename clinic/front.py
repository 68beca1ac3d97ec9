"""The one address `make run` serves: a small HTTP/1.1 front for two local servers.

- gunicorn (WSGI worker processes): pages, the API, static files; everything else.
- one ASGI process (daphne): websockets (``/ws/``) and the visit's own endpoints (``/visits/``).
  Those endpoints push changes to the visit's open sockets through the channel layer, and the
  embedded run's layer is in memory, so the push must start in the process holding the sockets.

Each request is routed on its own, so a browser's kept-alive connection may carry requests for
both. Requests are read one at a time (browsers do not pipeline); a body is passed on by its
Content-Length, and a chunked body or a websocket upgrade turns the connection into a plain
tunnel to the server it was routed to. The client's address is handed on in X-Forwarded-For
(the only entry: whatever the client sent there is dropped) and the backends read it with
BEHIND_PROXY set. Loopback only: on a real deployment nginx has this job (deploy/).

    python -m clinic.front --bind 127.0.0.1:8000 --wsgi var/run/wsgi.sock --asgi var/run/asgi.sock
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

ASGI_PREFIXES = (b"/ws/", b"/visits/")
DROPPED = (b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded")
MAX_HEAD = 64 * 1024
BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
UNAVAILABLE = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Front:
    def __init__(self, wsgi: str, asgi: str) -> None:
        self.sockets = {"wsgi": wsgi, "asgi": asgi}

    async def serve(self, client: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        address = (peer[0] if isinstance(peer, tuple) else "127.0.0.1").encode()
        upstream: dict[str, tuple[asyncio.StreamWriter, asyncio.Task]] = {}
        try:
            while True:
                try:
                    head = await client.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return  # the client closed between requests
                except asyncio.LimitOverrunError:
                    writer.write(BAD_REQUEST)
                    return
                parsed = _parse(head, address)
                if parsed is None:
                    writer.write(BAD_REQUEST)
                    return
                new_head, path, length, tunnel = parsed
                name = "asgi" if path.startswith(ASGI_PREFIXES) else "wsgi"
                backend = upstream.get(name)
                if backend is None or backend[1].done():
                    try:
                        reader, backend_writer = await asyncio.open_unix_connection(self.sockets[name])
                    except OSError:
                        writer.write(UNAVAILABLE)
                        return
                    backend = (backend_writer, asyncio.create_task(_pump(reader, writer)))
                    upstream[name] = backend
                backend_writer = backend[0]
                backend_writer.write(new_head)
                if tunnel:  # from here on the connection belongs to that server
                    await _copy(client, backend_writer)
                    await backend[1]
                    return
                while length > 0:
                    chunk = await client.read(min(length, 65536))
                    if not chunk:
                        return
                    backend_writer.write(chunk)
                    length -= len(chunk)
                await backend_writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            for backend_writer, pump in upstream.values():
                backend_writer.close()
                pump.cancel()
            with contextlib.suppress(Exception):
                writer.close()


def _parse(head: bytes, address: bytes) -> tuple[bytes, bytes, int, bool] | None:
    """The head as passed on, the path, the body's length, and whether to tunnel."""
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        return None
    kept = [lines[0]]
    length, tunnel = 0, False
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            return None
        key = name.strip().lower()
        if key in DROPPED:
            continue
        if key == b"content-length":
            if not value.strip().isdigit():
                return None
            length = int(value)
        elif key == b"transfer-encoding" or (key == b"upgrade" and value.strip()):
            tunnel = True
        kept.append(line)
    kept.append(b"X-Forwarded-For: " + address)
    return b"\r\n".join(kept) + b"\r\n\r\n", parts[1], length, tunnel


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A backend's bytes to the client, until the backend closes its side."""
    with contextlib.suppress(ConnectionError):
        await _copy(reader, writer)


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while chunk := await reader.read(65536):
        writer.write(chunk)
        await writer.drain()


async def main(bind: str, wsgi: str, asgi: str) -> None:
    host, _, port = bind.rpartition(":")
    front = Front(wsgi, asgi)
    server = await asyncio.start_server(front.serve, host or "127.0.0.1", int(port), limit=MAX_HEAD)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bind", required=True)
    parser.add_argument("--wsgi", required=True, help="gunicorn's unix socket")
    parser.add_argument("--asgi", required=True, help="the ASGI server's unix socket")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.bind, args.wsgi, args.asgi))
