"""`rig run` with the instruments on the links real ones use: HiSLIP and RS-232 (ptys).

simlab serves HiSLIP where the model's LAN port speaks it (the Keysight instruments) and a
serial line where the model has an RS-232 port (the Rigol load, both thermistor
emulators), each with the model's settings; `simlab.transport` in the station picks the
link. Every station role goes over one of them in these runs:

- HiSLIP, default station: charger (E36234A), cells (4 x N6705C), short relay and fault
  switch (DAQ970A); EL34143A station: the load; 34465A station: the digitizer (opened,
  checked and made idle after every plan: its short-circuit capture is too slow for the
  plan, tests/e2e/test_refusals.py);
- serial, default station: the load (DL3021) and the thermistor emulators (5522A, MC642).

Cost: the whole default suite passes on either link (measured: 11.3 s over HiSLIP, 11.9 s
over serial, 10.8 s on sockets); here each role's plans run once, as
test_rig_run_stations.py selects them for a variant: the power-path, reporting,
over-current and short-circuit plans, cell 16 and NTC 2. Two runs at a time.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import REPO, RigRun, run_rig

KINDS = "pack or reporting or cell16 or ntc2 or _oc or short_circuit"
# name -> (station file, transport, rig run selection, instruments expected on that link)
RUNS: dict[str, tuple[str, str, str, set[str]]] = {
    "hislip": (
        "stations/sim-16s.yaml",
        "hislip",
        KINDS,
        {"charger", "cellsim_a", "cellsim_b", "cellsim_c", "cellsim_d", "daq"},
    ),
    "serial": ("stations/sim-16s.yaml", "serial", KINDS, {"load", "ntc_1", "ntc_2"}),
    # the load as the discharge path's evidence (its own current stimulus needs a bench
    # that carries 21 A: rig.station.fitness)
    "hislip-load": ("stations/sim-16s-el34143a.yaml", "hislip", "cell_uv and cell1]", {"load"}),
    "hislip-digitizer": ("stations/sim-16s-34465a-m300.yaml", "hislip", "cell16", {"dmm"}),
}


def _station(tmp: Path, source: str, transport: str) -> Path:
    doc = yaml.safe_load((REPO / source).read_text())
    doc.setdefault("simlab", {})["transport"] = transport
    path = tmp / f"{transport}-{Path(source).name}"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, RigRun]:
    def run(name: str) -> RigRun:
        source, transport, selection, _ = RUNS[name]
        tmp = tmp_path_factory.mktemp(name)
        station = _station(tmp, source, transport)
        return run_rig(tmp / "runs", "--station", str(station), "-k", selection)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(RUNS, pool.map(run, RUNS), strict=True))


@pytest.mark.parametrize("name", sorted(RUNS))
def test_the_plans_pass_with_instruments_on_the_link(runs, name) -> None:
    run = runs[name]
    assert run.returncode == 0, run.output[-3000:]
    assert "Overall verdict: PASS" in run.output
    assert run.measurements() and all(m["verdict"] == "pass" for m in run.measurements())
    transport, expected = RUNS[name][1], RUNS[name][3]
    marker = "::hislip0," if transport == "hislip" else "ASRL/dev/pts/"
    resources = {r["name"]: r["resource"] for r in run.records if r["type"] == "instrument"}
    on_link = {n for n, resource in resources.items() if marker in resource}
    assert expected <= on_link, resources
    if name in ("hislip", "serial"):  # the rest stays on raw sockets
        assert on_link == expected
        assert all(resources[n].endswith("::SOCKET") for n in set(resources) - on_link)
    assert run.final_state["safe"], run.final_state  # left safe over the same links
