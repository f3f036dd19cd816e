"""Browser test harness: the real dashboard (`streamlit run app.py`) on a temporary store, driven by Chromium.

Fixtures (registered in tests/conftest.py):
- `start_dashboard(env=None, db=None) -> Dashboard`: a factory; each call starts one server on a free port with
  JUDGE_DB pointing at `db` (a fresh temporary store by default) plus any extra `env`; all are stopped at the
  end of the test. Use it for two servers or per-server settings.
- `dashboard -> Dashboard`: one server on a fresh store. `dashboard.url` is the base URL, `dashboard.db` the
  store file, `dashboard.store()` a Store on it (for seeding before, and asserting after, the browser acts).
- `browser`: one headless Debian Chromium per test session (skips with the reason when it is missing).
- `page`: a fresh browser context and page per test (isolated cookies and storage).

Helpers: `settle(page)` waits until Streamlit has finished the rerun a click or keypress started.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest

from judge.store import Store

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
STARTUP_TIMEOUT_S = 90  # generous: the test machine's CPUs are shared


@dataclass
class Dashboard:
    """A running dashboard server and the store it serves."""

    url: str
    db: Path
    process: subprocess.Popen = field(repr=False)
    log: Path = field(repr=False)

    def store(self) -> Store:
        return Store(self.db)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _streamlit_command(port: int) -> list[str]:
    streamlit = Path(sys.executable).with_name("streamlit")
    return [
        str(streamlit), "run", "app.py",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
    ]


def _wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The dashboard exited with code {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"The dashboard did not become healthy in {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


@pytest.fixture
def start_dashboard(tmp_path_factory) -> Iterator[Callable[..., Dashboard]]:
    started: list[Dashboard] = []

    def start(env: dict[str, str] | None = None, db: str | os.PathLike | None = None) -> Dashboard:
        workdir = tmp_path_factory.mktemp("dashboard")
        db_file = Path(db) if db else workdir / "judge.duckdb"
        Store(db_file)  # migrate before the server starts, so tests can seed and the page finds a schema
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = workdir / "server.log"
        server_env = {**os.environ, "JUDGE_DB": str(db_file), **(env or {})}
        with open(log, "wb") as out:
            process = subprocess.Popen(
                _streamlit_command(port), cwd=ROOT, env=server_env, stdout=out, stderr=subprocess.STDOUT,
            )
        dashboard = Dashboard(url=url, db=db_file, process=process, log=log)
        started.append(dashboard)
        _wait_healthy(url, process, log)
        return dashboard

    yield start
    for dashboard in started:
        dashboard.stop()


@pytest.fixture
def dashboard(start_dashboard) -> Dashboard:
    return start_dashboard()


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread while it is alive,
    which would break `asyncio.run` in the tests that come after the browser tests."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (sh .ci/ensure-chromium) to run browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    context.close()


_IDLE = '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'


def settle(page, timeout_ms: int = 30_000, *, quiet_checks: int = 3) -> None:
    """Wait until the app is connected and its script has stayed idle for a few checks in a row.

    A rerun can take a moment to start after a click, and a fresh page is idle before its first run, so one
    idle sighting is not enough.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    quiet = 0
    while quiet < quiet_checks:
        if time.monotonic() > deadline:
            raise TimeoutError(f"The app did not settle within {timeout_ms} ms.")
        page.wait_for_timeout(150)
        quiet = quiet + 1 if page.locator(_IDLE).count() else 0
