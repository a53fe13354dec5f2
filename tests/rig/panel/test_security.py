"""The panel's rules: read-only without the token, every action refused without it, no
cross-site POSTs, no foreign Host, nothing of the file system in what the browser gets."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest

from tests.rig.panel.conftest import REPO, TOKEN, start_panel, stop_panel, write_store

ACTIONS = [
    ("/api/token", {}),
    ("/api/runs", {"station": "sim-16s", "spec": "jbd-16s-lfp", "tester": "x"}),
    ("/api/runs/{run}/stop", {}),
    ("/api/runs/{run}/prompts/p1-cover/answer", {"answer": "done", "by": "Ada"}),
]
_runs = itertools.count(1)


@pytest.fixture
def client(panel_server):
    """A client of the module's panel, and a run of its own waiting at a prompt."""
    run = f"sec{next(_runs)}"
    gone = subprocess.Popen(["true"])
    gone.wait()
    write_store(
        panel_server.runs / run,
        [{"type": "prompt", "prompt": "p1-cover", "step": "cover", "text": "Close the cover"}],
        pid=gone.pid,
    )
    with panel_server.client() as c:
        c.run = run  # type: ignore[attr-defined]
        c.origin = panel_server.url  # type: ignore[attr-defined]
        yield c


@pytest.mark.parametrize(("url", "body"), ACTIONS)
def test_every_action_needs_the_token(client, url, body):
    url = url.format(run=client.run)
    assert client.post(url, json=body).status_code == 401
    assert client.post(url, json=body, headers={"X-Rig-Token": "wrong"}).status_code == 403
    assert client.post(f"{url}?token={TOKEN}", json=body).status_code == 401  # never in a URL


@pytest.mark.parametrize(("url", "body"), ACTIONS)
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "http://127.0.0.1:1"}, 403),
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Content-Type": "text/plain"}, 415),
    ],
)
def test_cross_site_posts_are_refused_even_with_the_token(client, url, body, headers, status):
    sent = {"X-Rig-Token": TOKEN, "Content-Type": "application/json", **headers}
    response = client.post(url.format(run=client.run), content=json.dumps(body), headers=sent)
    assert response.status_code == status


def test_same_origin_with_the_token_acts(client):
    headers = {"X-Rig-Token": TOKEN, "Origin": client.origin}
    assert client.post("/api/token", json={}, headers=headers).json() == {"ok": True}
    url = f"/api/runs/{client.run}/prompts/p1-cover/answer"
    answered = client.post(url, json={"answer": "done", "by": "Ada"}, headers=headers)
    assert answered.status_code == 200
    again = client.post(url, json={"answer": "done", "by": "Bob"}, headers=headers)
    assert again.status_code == 409  # the first answer stands
    unknown = client.post(
        url.replace("p1-cover", "p9-x"), json={"answer": "done", "by": "Ada"}, headers=headers
    )
    assert unknown.status_code == 404
    stop = client.post(f"/api/runs/{client.run}/stop", json={}, headers=headers)
    assert stop.status_code == 409  # nothing running under that run id
    bad = client.post(
        "/api/runs", json={"station": "../../etc/passwd", "spec": "x", "tester": "a"},
        headers=headers,
    )  # fmt: skip
    assert bad.status_code == 400 and "no station named" in bad.json()["detail"]


def test_reading_needs_no_token_and_a_foreign_host_gets_nothing(client):
    assert client.get("/").status_code == 200
    assert "default-src 'self'" in client.get("/").headers["content-security-policy"]
    assert client.run in {r["run_id"] for r in client.get("/api/runs").json()["runs"]}
    assert client.get("/api/info").json()["stations"]
    assert client.get("/api/lab").json() == {"places": None, "error": None}  # no lab view
    assert client.get("/api/runs", headers={"Host": "rebound.example"}).status_code == 400
    for url in ("/api/runs/..%2F..%2Fetc/events", "/api/runs/nope/events",
                f"/api/runs/{client.run}/plots/..%2Fresults.jsonl",
                f"/runs/{client.run}/results.jsonl"):  # fmt: skip
        assert client.get(url).status_code == 404, url


def test_nothing_of_the_file_system_reaches_the_browser(tmp_path):
    """A real run's whole stream: no path of this machine, no endpoint, no argv."""
    runs = tmp_path / "runs"
    subprocess.run(
        [sys.executable, "-m", "rig", "run", "--no-report", "--runs-dir", str(runs),
         "--run-id", "r", "-k", "test_cell_ov_trip_delay and cell3"],
        cwd=REPO, check=False, capture_output=True, timeout=120,
    )  # fmt: skip
    served, handle = start_panel(runs, REPO / "stations", REPO / "specs")
    try:
        _read_everything(served, runs, tmp_path)
    finally:
        stop_panel(handle)


def _read_everything(served, runs, tmp_path) -> None:
    with served.client() as client:
        text = client.get("/api/runs/r/events").text
        assert '"type": "measurement"' in text and '"type": "run_end"' in text
        for secret in (str(REPO), str(tmp_path), "/dev/pts", "station_file", "argv",
                       "waveform", "TCPIP::", "control", "test_plans/"):  # fmt: skip
            assert secret not in text, secret
        plot = next(line for line in text.splitlines() if '"plot": "' in line)
        name = plot.split('"plot": "')[1].split('"')[0]
        assert client.get(f"/api/runs/r/plots/{name}").status_code == 404  # not drawn yet
        (runs / "r" / "plots").mkdir()
        (runs / "r" / "plots" / name).write_bytes(b"\xff\xd8 a plot")
        assert client.get(f"/api/runs/r/plots/{name}").content == b"\xff\xd8 a plot"
        assert client.get("/runs/r/report.html").status_code == 404  # --no-report
        (runs / "r" / "report.html").write_text(
            "<style>@font-face{src:url('file:///root/.cache/f.ttf')}</style><p>report</p>"
        )
        served = client.get("/runs/r/report.html").text
        assert "<p>report</p>" in served and "/root/" not in served and "file:" not in served
