"""Local stand-ins for the media files that langchain-tests downloads from the internet.

The standard integration suite fetches an image, a PDF and a WAV file from public URLs with
``httpx.get`` before it calls the model. Tests here never leave 127.0.0.1, so
:class:`FixtureFileServer` serves small, valid files of the same types on a loopback port and
:class:`LocalDownloads` (installed in place of the suite's ``httpx`` name) sends those fixture
downloads there over real HTTP. The model under test and its own HTTP client are untouched.
"""

from __future__ import annotations

import io
import math
import struct
import threading
import wave
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx


def png_bytes(width: int = 32, height: int = 32) -> bytes:
    """A valid RGB PNG (a colour gradient)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 8 % 256, y * 8 % 256, 128)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def pdf_bytes(text: str = "Dummy PDF file") -> bytes:
    """A valid one-page PDF showing ``text``."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def wav_bytes(milliseconds: int = 250, rate: int = 8000) -> bytes:
    """A valid 8 kHz mono 16-bit WAV holding a short 440 Hz tone (written by ``wave``)."""
    frames = b"".join(
        struct.pack("<h", round(8000 * math.sin(2 * math.pi * 440 * n / rate)))
        for n in range(rate * milliseconds // 1000)
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return out.getvalue()


FILES: dict[str, tuple[str, bytes]] = {
    ".png": ("image/png", png_bytes()),
    ".pdf": ("application/pdf", pdf_bytes()),
    ".wav": ("audio/wav", wav_bytes()),
}


class FixtureFileServer:
    """Serves :data:`FILES` by extension on 127.0.0.1 (any path ending in .png/.pdf/.wav)."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                suffix = "." + self.path.rsplit(".", 1)[-1].lower()
                if suffix not in FILES:
                    self.send_error(404)
                    return
                content_type, body = FILES[suffix]
                self.send_response(200)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> FixtureFileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class LocalDownloads:
    """Stands in for the ``httpx`` module inside the suite: ``get`` goes to the file server."""

    def __init__(self, server: FixtureFileServer) -> None:
        self._server = server

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        local = self._server.base_url + urlsplit(url).path
        return httpx.get(local, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(httpx, name)
