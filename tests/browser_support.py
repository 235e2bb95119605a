"""Headless Chromium for the report tests: a tiny DevTools (CDP) client over the stdlib.

``open_report(path)`` starts Debian's ``chromium`` with no network access to speak of
(background networking, sync, component updates and QUIC off; a fresh profile), loads the
page, waits for MathJax to finish typesetting, and returns what a reader would see:
visible text, images with their decoded sizes, failed or refused resource loads, script
errors, console errors, and a screenshot if asked.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)
# resolves once MathJax (if the page has it) has typeset everything queued before it
MATHJAX_DONE = """new Promise(resolve => {
  if (!window.MathJax || !MathJax.Hub) { resolve("no-mathjax"); return; }
  MathJax.Hub.Queue(() => resolve("typeset"));
})"""
PAGE_STATE = """JSON.stringify({
  text: document.body.innerText,
  images: [...document.images].map(i => ({src: i.src.slice(0, 40), width: i.naturalWidth,
                                          height: i.naturalHeight, complete: i.complete})),
  math: document.querySelectorAll(".MathJax_SVG").length,
  math_errors: document.querySelectorAll(".MathJax_SVG merror, .MathJax_SVG [data-mjx-error]").length,
  height: document.documentElement.scrollHeight,
})"""


def chromium_path() -> str | None:
    """The chromium binary on PATH, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageReport:
    """What loading one page in Chromium showed."""

    text: str = ""
    images: list[dict[str, Any]] = field(default_factory=list)
    math: int = 0
    math_errors: int = 0
    height: int = 0
    mathjax: str = ""
    failed_loads: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


class DevTools:
    """A minimal websocket client (RFC 6455 text frames) speaking CDP to one page."""

    def __init__(self, ws_url: str, timeout: float) -> None:
        rest = ws_url.removeprefix("ws://")
        hostport, _, path = rest.partition("/")
        host, _, port = hostport.partition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"websocket handshake refused: {head[:80]!r}")
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def _send(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        n = len(payload)
        header = bytes([0x81]) + (
            bytes([0x80 | n])
            if n < 126
            else bytes([0x80 | 126]) + struct.pack(">H", n)
            if n < 65536
            else bytes([0x80 | 127]) + struct.pack(">Q", n)
        )
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("DevTools connection closed")
            data += chunk
        return data

    def _receive(self) -> dict[str, Any]:
        message = b""
        while True:
            first, second = self._exact(2)
            n = second & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._exact(8))[0]
            message += self._exact(n)
            if first & 0x80:  # FIN
                return dict(json.loads(message))

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result; events arriving meanwhile are kept."""
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = self._receive()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            self.events.append(message)

    def wait_event(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {timeout} s")
            self.events.append(self._receive())


def open_report(
    page: Path, screenshot: Path | None = None, width: int = 1200, height: int = 3000, timeout: float = 60.0
) -> PageReport:
    """Load ``page`` (a local file) in headless Chromium and report what it showed."""
    binary = chromium_path()
    if binary is None:
        raise FileNotFoundError("chromium is not installed")
    with tempfile.TemporaryDirectory(prefix="adalib-chromium-", ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen(
            [
                binary,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the helpers it starts end with it
        )
        try:
            return _inspect(Path(profile), page.resolve(), screenshot, width, height, timeout)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _inspect(
    profile: Path, page: Path, screenshot: Path | None, width: int, height: int, timeout: float
) -> PageReport:
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
        if time.monotonic() > deadline:
            raise TimeoutError("chromium did not open its DevTools port")
        time.sleep(0.1)
    port = int(port_file.read_text().split()[0])
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as answer:
        targets = json.load(answer)
    ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
    tools = DevTools(ws_url, timeout)
    for domain in ("Page", "Network", "Runtime", "Log"):
        tools.call(f"{domain}.enable")
    tools.call(
        "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False
    )
    tools.events.clear()
    tools.call("Page.navigate", url=page.as_uri())
    tools.wait_event("Page.loadEventFired", timeout)
    done = tools.call("Runtime.evaluate", expression=MATHJAX_DONE, awaitPromise=True, returnByValue=True)
    time.sleep(0.3)  # let late resource events arrive
    state = json.loads(
        tools.call("Runtime.evaluate", expression=PAGE_STATE, returnByValue=True)["result"]["value"]
    )
    report = PageReport(**state, mathjax=str(done["result"].get("value")))
    if screenshot is not None:
        # the whole page, beyond the window's height
        clip = {"x": 0, "y": 0, "width": width, "height": max(height, report.height), "scale": 1}
        shot = tools.call("Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
    urls: dict[str, str] = {}
    for event in tools.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
            report.requests.append(params["request"]["url"][:120])
        elif method == "Network.loadingFailed":
            report.failed_loads.append(
                f"{urls.get(params['requestId'], '?')[:120]}: {params.get('errorText')}"
            )
        elif method == "Network.responseReceived" and params["response"].get("status", 200) >= 400:
            report.failed_loads.append(
                f"{params['response']['url'][:120]}: HTTP {params['response']['status']}"
            )
        elif method == "Runtime.exceptionThrown":
            report.script_errors.append(
                str(
                    params["exceptionDetails"].get("exception", {}).get("description")
                    or params["exceptionDetails"].get("text")
                )
            )
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            report.console_errors.append(params["entry"]["text"])
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            report.console_errors.append(" ".join(str(a.get("value")) for a in params.get("args", [])))
    return report
