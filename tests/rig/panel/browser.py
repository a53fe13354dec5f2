"""The system's Chromium, headless, driven through Playwright (for the panel's tests).

Debian's `chromium` (`/usr/bin/chromium`; `.ci/run` installs it with apt-get), never a
downloaded browser build; a fresh profile per use.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # as root, in a container
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",  # a container's small /dev/shm
]


def need_chromium() -> None:
    """Skip where there is no Chromium; in CI its absence is an error."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)


@contextmanager
def chromium_page() -> Iterator:
    """A page in a fresh headless Chromium; `page.errors` collects the page's errors."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="rig-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 1000},
                # the tests' own waits evaluate JavaScript, which the page's CSP forbids;
                # and without the CSP, markup from a run would run if the page inserted
                # it as markup: the escaping itself is what is tested
                bypass_csp=True,
            )
            page = context.new_page()
            page.set_default_timeout(30_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.errors = errors  # type: ignore[attr-defined]
            yield page
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def shots_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: `RIG_PANEL_SHOTS=DIR` keeps them."""
    kept = os.environ.get("RIG_PANEL_SHOTS")
    folder = Path(kept) if kept else tmp_path_factory.mktemp("shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
