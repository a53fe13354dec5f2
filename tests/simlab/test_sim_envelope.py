"""The bench inside its instruments' envelopes: nothing carries what no instrument could.

The circuit laws with real ratings: a 200 W supply's current at the pack's voltage, a
load's power, an emulator string bounded by its weakest channel (charged beyond it, its
voltage rises to the charger's; drained beyond it, the pack collapses), a battery
simulator's short (its capacitance first, then its regulation to its limit), a
contactor opened under current.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simlab.firmware import Firmware, FirmwareParams, parse_defect
from simlab.hardware import LoadInput, RelayChannel, SourceChannel
from simlab.physics import Bench
from simlab.scpi.models.keysight_e36234a import KeysightE36234A
from simlab.scpi.models.keysight_n6705c import MODULE_RATINGS
from simlab.scpi.models.keysight_rp7900 import KeysightRP7952A
from simlab.scpi.models.supply import rated_channel
from simlab.world import World


def n6781a(volts: float = 3.3, limit: float = 3.0) -> SourceChannel:
    ch = rated_channel(MODULE_RATINGS["N6781A"])
    ch.voltage_set, ch.current_limit, ch.output_on = volts, limit, True
    return ch


def test_an_autoranging_supply_gives_its_power_not_its_current_limit():
    charger = rated_channel(KeysightE36234A.RATINGS[1])
    charger.voltage_set, charger.current_limit, charger.output_on = 56.0, 10.0, True
    bench = Bench([None] * 16, charger, None, rng=np.random.default_rng(1))  # a module
    st = bench.solve()
    assert st.charge_a == pytest.approx(200.0 / 56.0)  # 3.57 A, not 10 A
    assert charger.mode == "CP" and charger.in_current_limit


def test_a_load_sinks_within_its_power():
    load = LoadInput(mode="CC", current_set=30.0, input_on=True, i_max=40.0, p_max=200.0)
    bench = Bench([None] * 16, None, load, rng=np.random.default_rng(1))
    st = bench.solve()
    assert st.load_a == pytest.approx(200.0 / st.pack_v, rel=1e-3)  # about 3.8 A
    assert load.limited


def test_charged_beyond_its_weakest_channel_the_string_meets_the_charger():
    cells = [n6781a(limit=3.0) for _ in range(16)]
    cells[4].current_limit = cells[4].sink_limit = 1.0  # one channel holds 1 A
    charger = SourceChannel(voltage_set=56.0, current_limit=8.0, output_on=True)
    bench = Bench(cells, charger, None)
    st = bench.solve()
    assert st.charge_a == pytest.approx(1.0) and st.pack_current_a == pytest.approx(1.0)
    assert cells[4].in_current_limit and cells[4].mode == "CC-"
    assert not cells[0].in_current_limit and cells[0].voltage_meas == pytest.approx(3.3)
    # the limiting channel leaves CV: its voltage rises to meet the charger's CV
    assert st.pack_v == pytest.approx(56.0 - 0.05 * 1.0)
    assert cells[4].voltage_meas == pytest.approx(st.pack_v - 15 * 3.3)
    assert all(ch.current_meas == pytest.approx(-1.0) for ch in cells)


def test_drained_beyond_it_the_pack_collapses_and_the_load_gets_what_it_gives():
    cells = [n6781a(limit=3.0) for _ in range(16)]
    load = LoadInput(mode="CC", current_set=30.0, input_on=True, i_max=40.0, p_max=2000.0)
    bench = Bench(cells, None, load)
    st = bench.solve()
    assert st.load_a == pytest.approx(3.0) and st.pack_current_a == pytest.approx(-3.0)
    assert st.pack_v == pytest.approx(bench.params.load_min_v)  # the board browns out
    assert all(ch.mode == "CC" for ch in cells)


def test_an_n6781a_sources_within_its_20_w():
    ch = n6781a(volts=19.0, limit=3.0)
    assert ch.source_cap(19.0) == pytest.approx(20.0 / 19.0)
    assert ch.sink_cap(3.3) == pytest.approx(3.0)


def battery_sim_world(limit: float = 250.0) -> tuple[World, SourceChannel, RelayChannel]:
    pack = rated_channel(KeysightRP7952A.RATINGS[1])
    pack.voltage_set, pack.current_limit, pack.sink_limit, pack.output_on = 52.8, limit, limit, True
    cells = [
        SourceChannel(voltage_set=3.3, current_limit=1.0, sink_max=1.0, output_on=True)
        for _ in range(16)
    ]
    bench = Bench(cells, None, None)
    bench.pack_source = pack
    world = World(bench, Firmware(16, FirmwareParams(scan_phase_s=0.0)))
    relay = RelayChannel(on_change=world.solve)
    bench.short_relay = relay
    world.advance(1.0)
    return world, pack, relay


def test_a_battery_simulators_short_is_its_capacitance_then_its_regulation():
    world, pack, relay = battery_sim_world()
    world.firmware.add_defect(parse_defect("delay_too_long:protection=short_circuit,factor=100"))
    t0 = world.t
    relay.closed = True
    world.solve()
    world.advance(400e-6)
    trace = world.bench.traces["pack_current"]
    short, src = world.bench.params.short, world.bench.params.pack_source
    tau = short.l_h / short.r_ohm
    prospective = 52.8 / short.r_ohm
    # the first 50 µs: the loop draws from the output capacitance, as from a stiff source
    assert -trace.value(t0 + 25e-6) == pytest.approx(prospective * (1 - math.exp(-25e-6 / tau)))
    # then the regulation pulls it to the power limit at 52.8 V (10 kW: 189 A)
    assert -trace.value(t0 + 350e-6) == pytest.approx(10_000 / 52.8, rel=1e-3)
    assert pack.in_current_limit and src.response_s == 50e-6
    # the cells on the sense taps carry nothing of it
    assert all(abs(ch.current_meas) < 1e-9 for ch in world.bench.positions)


def test_a_contactor_opened_under_current_arcs_for_its_break_time():
    world, _pack, relay = battery_sim_world(limit=100.0)
    world.firmware.add_defect(parse_defect("delay_too_long:protection=short_circuit,factor=1000"))
    relay.closed = True
    world.solve()
    world.advance(1e-3)
    t_open = world.t
    assert world.bench.discharge_fet
    i_before = world.bench.traces["pack_current"].value(t_open)
    relay.closed = False
    world.solve()
    world.advance(2e-3)
    trace = world.bench.traces["pack_current"]
    brk = world.bench.params.short.break_s
    assert trace.value(t_open + brk / 2) == pytest.approx(i_before / 2)
    assert trace.value(t_open + brk) == pytest.approx(0.0, abs=1e-9)


def test_the_shunt_and_the_fets_warm_and_a_warm_shunt_reads_high():
    """15 A (below discharge level 1) for 10 minutes: the shunt (1 mΩ, 15 K/W, 50 ppm/K)
    settles 3.4 K up and the BMS reads 170 ppm high; the FETs (2 mΩ, 2 K/W, 60 s) 0.9 K
    up, which an NTC input on their heatsink sees where no emulator drives it."""
    world, _pack, _relay = battery_sim_world()
    bench = world.bench
    load = LoadInput(mode="CC", current_set=15.0, input_on=True, i_max=60.0, p_max=2000.0)
    bench.load = load
    world.set("physics.fet.ntc", 2)
    bench.ntc_channels = {}
    world.solve()
    world.advance(600.0)
    assert bench.shunt_rise_k == pytest.approx(15**2 * 0.001 * 15.0, rel=1e-3)
    assert bench.fet_rise_k == pytest.approx(15**2 * 0.002 * 2.0 * (1 - math.exp(-10)), rel=1e-3)
    assert bench.shunt_heat_factor == pytest.approx(1 + 50e-6 * 3.375, rel=1e-3)
    assert -bench.sensed_current().value(world.t) == pytest.approx(15.0 * bench.shunt_heat_factor)
    temps = world.truth()["state"]["temperatures_c"]
    assert temps[1] == pytest.approx(25.0 + bench.fet_rise_k, abs=0.1)  # the BMS's 0.1 °C
    assert temps[0] == pytest.approx(25.0, abs=0.1)
