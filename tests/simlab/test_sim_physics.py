"""The LFP cell model and the bench circuit."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from simlab.hardware import LoadInput, SourceChannel
from simlab.physics import Bench, LfpCell, LfpParams, make_cells, ocv
from simlab.physics.lfp import OCV_TABLE_SOC, OCV_TABLE_V


def test_ocv_curve_is_monotonic_and_lfp_shaped():
    assert np.all(np.diff(OCV_TABLE_SOC) > 0) and np.all(np.diff(OCV_TABLE_V) > 0)
    socs = np.linspace(0, 1, 501)
    volts = [ocv(s) for s in socs]
    assert all(b >= a for a, b in itertools.pairwise(volts))
    assert ocv(0.0) == pytest.approx(2.5) and ocv(1.0) == pytest.approx(3.6)
    assert all(3.2 <= ocv(s) <= 3.35 for s in np.linspace(0.1, 0.9, 50))
    assert ocv(-1) == ocv(0) and ocv(2) == ocv(1)


def test_lfp_cell_coulomb_integration_and_ir():
    cell = LfpCell(capacity_ah=100.0, r_ohm=0.001, soc=0.5)
    cell.step(10.0, 360.0)  # 1 Ah in
    assert cell.soc == pytest.approx(0.51)
    assert cell.terminal_v(10.0) == pytest.approx(cell.ocv() + 0.01)
    cell.step(-1e6, 3600)
    assert cell.soc == 0.0


def test_cell_spread_is_seeded():
    a = make_cells(8, LfpParams(), np.random.default_rng(3))
    b = make_cells(8, LfpParams(), np.random.default_rng(3))
    c = make_cells(8, LfpParams(), np.random.default_rng(4))
    assert a == b and a != c
    assert len({x.capacity_ah for x in a}) == 8


def _bench(n=4, volts=3.3):
    # stiff cells: these tests are about the charger, the load and the FETs
    cells = [
        SourceChannel(voltage_set=volts, current_limit=100.0, sink_max=100.0, output_on=True)
        for _ in range(n)
    ]
    charger = SourceChannel(voltage_set=14.0, current_limit=2.0)
    load = LoadInput(current_set=5.0)
    return Bench(list(cells), charger, load), cells, charger, load


def test_solve_charger_current_is_clamped_and_gated_by_the_charge_fet():
    bench, cells, charger, _ = _bench()
    assert bench.solve().charge_a == 0.0
    assert charger.voltage_meas == 0.0  # output off
    charger.output_on = True
    st = bench.solve()
    assert st.pack_v == pytest.approx(13.2)
    assert st.charge_a == pytest.approx(2.0)  # (14 - 13.2) / 0.05 = 16 A, limit 2 A
    assert charger.in_current_limit and charger.current_meas == pytest.approx(2.0)
    assert charger.voltage_meas == pytest.approx(13.2 + 2.0 * 0.05)
    assert all(ch.current_meas == pytest.approx(-2.0) for ch in cells)  # sinking
    charger.voltage_set = 13.23
    assert bench.solve().charge_a == pytest.approx(0.6)
    bench.charge_fet = False
    st = bench.solve()
    assert st.charge_a == 0.0 and charger.voltage_meas == pytest.approx(13.23)
    charger.voltage_set = 10.0  # below the pack: no reverse current
    bench.charge_fet = True
    assert bench.solve().charge_a == 0.0


def test_solve_load_current_gated_by_discharge_fet_and_pack_voltage():
    bench, cells, _, load = _bench()
    assert bench.solve().load_a == 0.0  # input off
    load.input_on = True
    st = bench.solve()
    assert st.load_a == pytest.approx(5.0) and st.pack_current_a == pytest.approx(-5.0)
    assert load.voltage_meas == pytest.approx(13.2 - 5 * 0.05)
    assert all(ch.current_meas == pytest.approx(5.0) for ch in cells)  # sourcing
    bench.discharge_fet = False
    assert bench.solve().load_a == 0.0 and load.current_meas == 0.0
    bench.discharge_fet = True
    for ch in cells:
        ch.output_on = False
    st = bench.solve()
    assert st.pack_v == 0.0 and st.load_a == 0.0
    assert all(ch.voltage_meas == 0.0 and ch.current_meas == 0.0 for ch in cells)


def test_unpowered_sense_line_reads_zero_and_opens_the_string():
    bench, cells, charger, load = _bench()
    cells[1].output_on = False
    load.input_on = charger.output_on = True
    st = bench.solve()
    assert st.cells_v == [3.3, 0.0, 3.3, 3.3] and st.pack_v == pytest.approx(9.9)
    assert st.load_a == 0.0 and st.charge_a == 0.0  # an output that is off is open


def test_load_cr_mode():
    bench, _, _, load = _bench()
    load.mode, load.resistance_set, load.input_on = "CR", 13.15, True
    assert bench.solve().load_a == pytest.approx(13.2 / 13.2)


def test_unwired_positions_are_lfp_cells_that_integrate():
    ch = SourceChannel(voltage_set=3.3, output_on=True)
    load = LoadInput(current_set=10.0, input_on=True)
    bench = Bench([ch, None, None], None, load, rng=np.random.default_rng(1))
    st = bench.solve()
    assert len(bench.lfp_cells) == 2 and 3.2 < st.cells_v[1] < 3.35
    soc0 = [c.soc for c in bench.lfp_cells.values()]
    bench.step(3600.0)
    soc1 = [c.soc for c in bench.lfp_cells.values()]
    assert all(b < a for a, b in zip(soc0, soc1, strict=True))


def test_physics_parameters():
    bench, *_ = _bench()
    assert bench.get_param("r_path_ohm") == 0.05
    assert bench.set_param("r_path_ohm", 0.1) == 0.05
    with pytest.raises(KeyError, match=r"did you mean physics\.r_path_ohm"):
        bench.set_param("r_path_ohms", 1.0)
    with pytest.raises(ValueError, match="number"):
        bench.set_param("r_path_ohm", "x")
    with pytest.raises(ValueError, match="> 0"):
        bench.set_param("r_path_ohm", 0)
    assert bench.get_param("r_path_ohm") == 0.1  # rolled back
