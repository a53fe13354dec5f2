"""The panel in a real headless Chromium (the system's, driven through Playwright).

One browser, one panel and one run for the module, followed as an operator would: open
the panel, give the token, start a run on simlab, answer the operator step the station
declares, see measurements and a trip plot arrive, reload mid-run (the run waits at its
second step) and find the view complete, stop the run and see the safe state and
INTERRUPTED. The DUT's name in the spec carries markup: it must show as text. Each state
is saved as a screenshot (`RIG_PANEL_SHOTS=DIR` keeps them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from rig.results import read_records
from tests.rig.panel.browser import chromium_page, need_chromium, shots_folder
from tests.rig.panel.conftest import REPO, TOKEN, PanelServer, start_panel, stop_panel

EVIL = '<img src=x onerror="window.pwned=1">Evil <b>BMS</b>'
SELECTION = "test_cell_ov_trip_delay and cell3 or test_cell_uv_trip_delay and cell3"

need_chromium()  # skips the module where there is none (fails it in CI)


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[PanelServer]:
    root = tmp_path_factory.mktemp("browser")
    stations, specs = root / "stations", root / "specs"
    stations.mkdir()
    specs.mkdir()
    station = yaml.safe_load((REPO / "stations/sim-16s.yaml").read_text())
    station["name"] = "prompting"
    station["operator"] = {
        "timeout_s": 120,
        "steps": [
            {"id": "harness", "text": "Connect the DUT's UART harness", "before": "start"},
            {"id": "cover", "text": "Close the safety cover", "before": "cell_uv"},
        ],
    }
    (stations / "prompting.yaml").write_text(yaml.safe_dump(station))
    spec = yaml.safe_load((REPO / "specs/jbd-16s-lfp.yaml").read_text())
    spec["dut"]["name"] = EVIL
    (specs / "evil.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True))
    server, handle = start_panel(root / "runs", stations, specs)
    yield server
    stop_panel(handle)
    for proc in server.panel.launcher.procs.values():  # a failed test leaves no run behind
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def page(served):
    with chromium_page() as page:
        yield page


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return shots_folder(tmp_path_factory)


def rows(page) -> int:
    return page.locator("#measurements tbody tr").count()


def test_an_operator_follows_answers_reloads_and_stops_a_run(served, page, shots):
    page.goto(served.url)
    page.wait_for_selector("#start-station option", state="attached")
    assert page.locator("#token-state").inner_text() == "read-only"
    page.screenshot(path=shots / "1-opened.png", full_page=True)

    # start without the token: refused, nothing started
    page.select_option("#start-station", "prompting")
    page.select_option("#start-spec", "evil")
    page.fill("#start-select", SELECTION)
    page.fill("#start-tester", "Ada Lovelace")
    page.click("#start-button")
    page.wait_for_selector("#start-error:not([hidden])")
    assert "401" in page.locator("#start-error").inner_text()
    assert not served.panel.launcher.procs

    page.fill("#token", TOKEN)
    page.click("#token-form button")
    page.wait_for_function(
        "document.querySelector('#token-state').textContent === 'token accepted'"
    )
    page.click("#start-button")

    # the station's first step, asked before any plan
    page.wait_for_selector("#prompt:not([hidden])")
    assert page.locator("#prompt-text").inner_text() == "Connect the DUT's UART harness"
    run_id = page.locator("#run-id").inner_text()
    run_dir = served.runs / run_id
    assert page.locator("#run-dut").inner_text() == EVIL  # markup shown as text
    assert page.locator("#run-dut img").count() == 0
    page.screenshot(path=shots / "2-prompt.png", full_page=True)
    page.click("#prompt-done")  # the name was filled from the start form

    # measurements arrive; then the run waits at the second step, before the cell_uv plan
    page.wait_for_function(
        "document.getElementById('prompt-text').textContent === 'Close the safety cover'"
        " && !document.getElementById('prompt').hidden"
    )
    page.wait_for_selector("#plots figure img")
    page.wait_for_function("document.querySelector('#plots img').naturalWidth > 0")
    seen = rows(page)
    assert seen >= 1
    assert page.locator("#plans-done").inner_text() == "1"
    assert page.locator("#plans-total").inner_text() == "2"
    page.screenshot(path=shots / "3-measured-waiting.png", full_page=True)
    answered = [r for r in read_records(run_dir) if r["type"] == "prompt_result"]
    assert [(r["by"], r["via"], r["answer"]) for r in answered] == [
        ("Ada Lovelace", "panel", "done")
    ]

    # reload mid-run: the page rebuilds the whole view from the store
    page.reload()
    page.wait_for_function(f"document.querySelectorAll('#measurements tbody tr').length === {seen}")
    page.wait_for_selector("#prompt:not([hidden])")
    assert page.locator("#prompt-text").inner_text() == "Close the safety cover"
    assert page.locator("#prompt-by").input_value() == "Ada Lovelace"  # kept for this tab
    assert page.locator("#run-tester").inner_text() == "Ada Lovelace"
    assert page.locator("#run-dut").inner_text().startswith(EVIL)  # and what the BMS reports
    told = page.locator("#log").inner_text()
    assert "operator step harness: done by Ada Lovelace (panel)" in told
    page.wait_for_selector("#plots figure img")
    page.screenshot(path=shots / "4-reloaded.png", full_page=True)

    # stop: SIGINT to the run, as Ctrl-C; safe state first, then INTERRUPTED
    page.click("#stop-button")
    page.wait_for_selector("#run-verdict:not([hidden])")
    page.wait_for_function("document.getElementById('run-state').textContent === 'ended'")
    assert page.locator("#run-verdict").inner_text() == "INTERRUPTED"
    assert "INTERRUPTED: SIGINT received" in page.locator("#notice").inner_text()
    assert "safe state (end of session): every output safe" in page.locator("#log").inner_text()
    assert page.locator("#prompt").is_hidden()
    page.wait_for_selector("#reports:not([hidden])")  # the report of the interrupted run
    page.wait_for_selector("#runs .badge.INTERRUPTED")
    page.screenshot(path=shots / "5-stopped.png", full_page=True)

    proc = served.panel.launcher.procs[run_id]
    assert proc.wait(timeout=60) == 130
    end = read_records(run_dir)[-1]
    assert (end["type"], end["verdict"], end["signal"]) == ("run_end", "INTERRUPTED", "SIGINT")
    assert json.loads((run_dir / "simlab-final.json").read_text())["safe"]
    assert page.evaluate("window.pwned") is None
    assert page.errors == []  # type: ignore[attr-defined]
