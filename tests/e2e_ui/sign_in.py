#!/usr/bin/env python3
"""Drives headless Chromium through the UI's sign-in, as a person would, over the DevTools
protocol on a pipe (--remote-debugging-pipe: no port, no driver, standard library only).

Usage: sign_in.py CHROMIUM PROFILE_DIR OVERVIEW_URL SERVICE_URL WRONG_TOKEN TOKEN SCREENSHOT [FLAG...]
(FLAGs: Chromium's flags, as tests/e2e_ui/browser.rs gives them to every run)

Loads the overview without a token, types a wrong token and presses Enter, then the right
one, opens a service page in the same tab, signs out; records the page's state and message
after each step, every request the page made (URL and Authorization header), what the tab
keeps in sessionStorage, and takes screenshots of the form and of the signed-in overview. Prints it all as
JSON for tests/e2e_ui/sign_in.rs to check.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time

TIMEOUT = 30.0


class Browser:
    """Chromium with its DevTools protocol on file descriptors 3 (in) and 4 (out)."""

    def __init__(self, chromium: str, profile: str, flags: list[str]) -> None:
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # The shell puts the pipes on descriptors 3 and 4, where Chromium expects them.
        wire = f'exec "$@" 3<&{to_chrome_r} 4>&{from_chrome_w}'
        self.process = subprocess.Popen(
            [
                "/bin/sh",
                "-c",
                wire,
                "sh",
                chromium,
                *flags,
                "--window-size=1280,900",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            pass_fds=(to_chrome_r, from_chrome_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []
        self.session = None

    def _read_message(self) -> dict:
        while b"\0" not in self.buffer:
            chunk = os.read(self.from_chrome, 65536)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict | None = None, session: bool = True) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read_message()
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, what: str):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}; page: {self.state()}")

    def state(self) -> dict:
        return self.evaluate(
            "({state: document.body && document.body.dataset.state,"
            " message: (document.getElementById('sign-in-message') || {}).textContent || null,"
            " title: (document.querySelector('main h1') || {}).textContent || null,"
            " stored: sessionStorage.getItem('otel-parity.api-token'),"
            " coverage: (document.querySelector('[data-metric=coverage]') || {dataset: {}}).dataset.value || null,"
            " signOut: Boolean(document.getElementById('sign-out')),"
            " errors: (document.getElementById('ui-errors') || {}).textContent || '',"
            " path: location.pathname, search: location.search})"
        )

    def navigate(self, url: str) -> None:
        self.evaluate("document.body && (document.body.dataset.state = 'navigating')")
        self.call("Page.navigate", {"url": url})
        self.wait_for(
            "document.readyState === 'complete' && document.body.dataset.state !== 'loading'"
            " && document.body.dataset.state !== 'navigating'",
            f"{url} to settle",
        )

    def type_and_enter(self, text: str) -> None:
        self.evaluate("document.getElementById('token-input').focus()")
        self.call("Input.insertText", {"text": text})
        key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13}
        self.call("Input.dispatchKeyEvent", {"type": "keyDown", "text": "\r", **key})
        self.call("Input.dispatchKeyEvent", {"type": "keyUp", **key})

    def requests(self) -> list[dict]:
        out = []
        for event in self.events:
            if event.get("method") == "Network.requestWillBeSent":
                request = event["params"]["request"]
                headers = {k.lower(): v for k, v in request.get("headers", {}).items()}
                out.append({"url": request["url"], "authorization": headers.get("authorization")})
        return out

    def close(self) -> None:
        try:
            self.call("Browser.close", session=False)
        except Exception:  # noqa: BLE001 - Chromium may close the pipe first
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def main() -> None:
    chromium, profile, overview, service, wrong, token, screenshot = sys.argv[1:8]
    browser = Browser(chromium, profile, sys.argv[8:])
    steps = {}
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = browser.call(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, session=False
        )
        browser.session = attached["sessionId"]
        browser.call("Page.enable")
        browser.call("Network.enable")
        browser.call("Runtime.enable")

        browser.navigate(overview)
        steps["without_token"] = browser.state()
        form = browser.call("Page.captureScreenshot", {"format": "png"})
        with open(os.path.join(os.path.dirname(screenshot), "sign-in-form.png"), "wb") as out:
            out.write(base64.b64decode(form["data"]))

        browser.type_and_enter(wrong)
        browser.wait_for(
            "document.body.dataset.state === 'signin' && /did not accept/.test("
            "(document.getElementById('sign-in-message') || {}).textContent || '')",
            "the wrong token to be refused",
        )
        steps["wrong_token"] = browser.state()

        browser.type_and_enter(token)
        browser.wait_for("document.body.dataset.state === 'ready'", "the overview with the token")
        steps["signed_in"] = browser.state()
        shot = browser.call("Page.captureScreenshot", {"format": "png"})
        with open(screenshot, "wb") as out:
            out.write(base64.b64decode(shot["data"]))

        browser.navigate(service)
        steps["service_page"] = browser.state()

        browser.evaluate("document.getElementById('sign-out').click()")
        time.sleep(0.5)
        browser.wait_for("document.body.dataset.state === 'signin'", "the sign-in form after signing out")
        steps["signed_out"] = browser.state()
    finally:
        requests = browser.requests()
        browser.close()
    print(json.dumps({"steps": steps, "requests": requests}))


if __name__ == "__main__":
    main()
