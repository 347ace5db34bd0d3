"""End to end, in a real browser: ``grokprop explore`` serves the explorer on a free local
port, Selenium drives the system's headless Chromium (never a downloaded one), presses
*step* and *epoch*, and the page shows the numbers ``Network.step`` / ``fit`` give.

Skipped, saying why, only when no Chromium or chromedriver is installed (Debian:
``apt-get install chromium chromium-driver``); ``GROKPROP_REQUIRE_BROWSER=1`` (CI) turns
that skip into a failure. The screenshot goes to ``GROKPROP_SCREENSHOT_DIR`` (default: the
test's temporary directory) as ``explorer.png``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import grokprop as gp

REQUIRE_ENV = "GROKPROP_REQUIRE_BROWSER"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
#: Voilà starts in a few seconds; a loaded CI machine (or ASan) is slower
SERVE_TIMEOUT = 90.0
PAGE_TIMEOUT = 60.0
# the sanitizers' preload is for grokprop's own processes, not for the browser
_NOT_FOR_THE_BROWSER = ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS", "PYTHONMALLOC")


def _missing(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
    pytest.skip(f"{reason} (set {REQUIRE_ENV}=1 to make this a failure)")


def _browser() -> tuple[str, str]:
    browser = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        _missing(
            "no Chromium and chromedriver found on PATH (Debian: apt-get install chromium "
            f"chromium-driver); found browser={browser}, chromedriver={driver}"
        )
    assert browser is not None and driver is not None
    return browser, driver


class Server:
    """``grokprop explore`` in a subprocess; its output collected by a thread."""

    def __init__(self, log: Path) -> None:
        self.lines: list[str] = []
        self.log = log
        self.url: str | None = None
        self._stderr = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grokprop", "explore"],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def close(self) -> None:
        """Stop the server if it still runs; close its files."""
        if self.process.poll() is None:
            self.interrupt()
        self._reader.join(10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        self._stderr.close()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if line.startswith("grokprop explorer: http://127.0.0.1:"):
                self.url = line.split()[2]
                self._ready.set()
        self._ready.set()

    def wait_url(self) -> str:
        self._ready.wait(SERVE_TIMEOUT)
        if self.url is None:
            self.process.kill()
            raise AssertionError(
                f"grokprop explore printed no URL in {SERVE_TIMEOUT:.0f} s: {self.lines}\n"
                f"{self.log.read_text(errors='replace')}"
            )
        return self.url

    def interrupt(self) -> int:
        """Ctrl-C, as a terminal sends it; the exit status."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    pytest.importorskip("voila", reason="grokprop explore needs Voilà (grokprop[explore])")
    running = Server(tmp_path / "voila.log")
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    binary, driver = _browser()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed (it is in grokprop[test])")
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager, if asked, downloads nothing
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1400,1000"):  # fmt: skip
        options.add_argument(argument)
    env = {k: v for k, v in os.environ.items() if k not in _NOT_FOR_THE_BROWSER}
    service = Service(executable_path=driver, env=env)
    chrome = webdriver.Chrome(service=service, options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


def test_step_and_epoch_in_the_browser_show_network_step_and_fit(
    browser: object,
    server: Server,
    tmp_path: Path,  # the browser first: it may skip
) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver: object = browser
    began = time.monotonic()
    url = server.wait_url()
    driver.get(url)  # type: ignore[attr-defined]
    # the page redraws its outputs while it trains: an element found a moment ago may be
    # replaced before its text is read (a stale reference), so waits and reads look again
    wait = WebDriverWait(  # type: ignore[arg-type]
        driver, PAGE_TIMEOUT, ignored_exceptions=(StaleElementReferenceException,)
    )

    def text(css: str) -> str:
        # a one-element tuple: an empty text is a result too, not a reason to wait
        found: tuple[str] = wait.until(lambda d: (d.find_element(By.CSS_SELECTOR, css).text,))
        return found[0].strip()

    def press(name: str) -> None:
        button = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f"button.gp-{name}"))
        driver.execute_script("arguments[0].click();", button)  # type: ignore[attr-defined]

    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".gp-step-error"))
    X, y = gp.datasets.streetlights("nonlinear")
    net = gp.Network([3, 4, 1], seed=1)
    assert text('td.gp-weight[data-weight="0-2-3"]') == repr(float(net.weights[0][2, 3]))

    press("step")
    wait.until(lambda d: text(".gp-steps") == "1")
    trace = net.step(X[0:1], y[0:1], alpha=0.2)
    assert text(".gp-step-error") == repr(trace.error)
    assert text('td.gp-weight[data-weight="0-0-1"]') == repr(float(net.weights[0][0, 1]))

    press("epoch")
    wait.until(lambda d: text(".gp-epochs") == "1")
    history = net.fit(X, y, alpha=0.2, epochs=1)
    assert text(".gp-epoch-error") == repr(history.final_error)
    for l, matrix in enumerate(net.weights):
        for (i, j), value in np.ndenumerate(np.asarray(matrix)):
            assert text(f'td.gp-weight[data-weight="{l}-{i}-{j}"]') == repr(float(value))
    assert text(".gp-selected-weight") == repr(float(net.weights[1][3, 0]))

    press("train")  # N epochs (60), in the served kernel's training thread
    wait.until(lambda d: text(".gp-epochs") == "61")
    history = net.fit(X, y, alpha=0.2, epochs=60)
    assert text(".gp-epoch-error") == repr(history.final_error)
    assert text('td.gp-weight[data-weight="1-2-0"]') == repr(float(net.weights[1][2, 0]))
    assert "trained 60 of 60 epochs" in text(".gp-messages")
    assert "epochs 1 to 61" in text(".gp-curve")

    directory = Path(os.environ.get("GROKPROP_SCREENSHOT_DIR") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    shot = directory / "explorer.png"
    assert driver.save_screenshot(str(shot))  # type: ignore[attr-defined]
    # the CI artifact's path (shown with -s)
    print(f"screenshot: {shot} ({time.monotonic() - began:.1f} s from start to screenshot)")  # noqa: T201

    # the controls, and a training of many seconds: the page stays live (its numbers move
    # while it trains) and stop ends it between two chunks
    Select(driver.find_element(By.CSS_SELECTOR, ".gp-data select")).select_by_visible_text(  # type: ignore[attr-defined]
        "truth table"
    )
    for name, value in (
        ("inputs", "8"),
        ("hidden", "16"),
        ("alpha", "0.01"),
        ("n-epochs", "1000000"),
    ):
        field = wait.until(  # the truth table's fields are shown once the data is chosen
            lambda d, name=name: (
                (f := d.find_element(By.CSS_SELECTOR, f".gp-{name} input")).is_displayed() and f
            )
        )
        # select what is there and type over it (clear() would send an empty value first),
        # Enter applies it; it reaches the kernel before a later click (one socket, in order)
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(f"{value}\n")
    wait.until(lambda d: "network [9, 16, 1]" in text(".gp-status") and text(".gp-epochs") == "0")
    press("train")
    wait.until(lambda d: int(text(".gp-epochs")) > 0)  # redrawn while it trains
    press("stop")
    wait.until(lambda d: "(stopped)" in text(".gp-messages"))
    done = int(text(".gp-epochs"))
    assert 0 < done < 1_000_000
    assert f"trained {done} of 1000000 epochs (stopped)" in text(".gp-messages")
    X8, y8 = gp.datasets.truth_table("xor", 8)
    net8 = gp.Network([9, 16, 1], seed=1)
    history = net8.fit(X8, y8, alpha=0.01, epochs=done)
    assert text(".gp-epoch-error") == repr(history.final_error)
    assert text('td.gp-weight[data-weight="0-8-15"]') == repr(float(net8.weights[0][8, 15]))

    children = _descendants(server.process.pid)  # Voilà and the page's kernel
    assert len(children) >= 2, children
    assert server.interrupt() == 0  # Ctrl-C stops it cleanly
    assert server.lines[-1].strip() == "explorer stopped", server.lines
    assert [pid for pid in children if _alive(pid)] == []  # nothing left running


def _descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (Linux's /proc/PID/task/TID/children)."""
    found = []
    for tasks in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in map(int, tasks.read_text().split()):
            found += [child, *_descendants(child)]
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (ProcessLookupError, FileNotFoundError):
        return False
    return state != "Z"  # a zombie has exited (its parent reaps it)
