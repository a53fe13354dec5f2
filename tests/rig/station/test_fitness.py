"""Which way a station stimulates each current plan, and why one it cannot serve is not
applicable: decided from the files and the models' ratings, before the run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from instruments import ratings
from rig.config import load_spec, load_station
from rig.station import fitness

REPO = Path(__file__).resolve().parents[3]
SPEC = load_spec(REPO / "specs" / "jbd-16s-lfp.yaml")


def station(name: str):  # type: ignore[no-untyped-def]
    return load_station(REPO / "stations" / name)


def test_the_levels_a_current_plan_commands():
    levels = fitness.current_levels(SPEC, "discharge_oc1")
    assert [lv.amps for lv in levels] == [18.5, 21.5, pytest.approx(24.75)]
    assert [lv.volts for lv in levels] == [pytest.approx(52.8)] * 3
    assert fitness.charge_volts(SPEC) == pytest.approx(54.8)
    assert fitness.short_step(SPEC) == pytest.approx(270.0)


@pytest.mark.parametrize(
    ("name", "current", "short"),
    [
        ("sim-16s.yaml", "emulated", "emulated"),
        ("sim-16s-dg822.yaml", "emulated", "emulated"),
        ("sim-16s-rp7952a.yaml", "real", "relay"),
        ("sim-16s-psb.yaml", "real", ""),
        ("sim-16s-module.yaml", "real", "relay"),
        ("sim-16s-sdl1020x.yaml", "", ""),
    ],
)
def test_each_station_stimulates_current_its_own_way(name, current, short):
    st = station(name)
    assert [fitness.current_mode(st, SPEC, p)[0] for p in fitness.CURRENT_PROTECTIONS] == [
        current
    ] * 3
    assert fitness.short_mode(st, SPEC)[0] == short


def test_the_reason_names_the_level_and_the_instrument_that_bounds_it():
    why = fitness.unfit(station("sim-16s-el34143a.yaml"), SPEC, ["charge_oc"])
    assert why == (
        "charge_oc charge current 8.9 A at 54.8 V: the charge path carries 3 A "
        "(limits.cell_current (3 A)); no current-sense emulation is wired"
    )
    why = fitness.unfit(station("sim-16s-psb.yaml"), SPEC, ["short_circuit"])
    assert "reaches 56.8 A (battery (EA PSB 10060-120))" in why and "180 A" in why


def test_an_autoranging_charger_is_held_to_its_power():
    st = station("sim-16s.yaml")
    cap = fitness.p_side(st, "charge", 54.8)
    assert cap.amps == pytest.approx(200.0 / 54.8) and "E36234A" in cap.bound


def test_a_generator_too_slow_for_the_short_is_not_used(monkeypatch):
    slow = ratings.GeneratorRating(emf_peak_v=10.0, edge_min_s=5e-6)  # a 5 µs edge
    table = dict(ratings.RATINGS)
    table["Keysight 33522B"] = dataclasses.replace(table["Keysight 33522B"], generator=slow)
    monkeypatch.setattr(ratings, "RATINGS", table)
    mode, why = fitness.short_mode(station("sim-16s.yaml"), SPEC)
    assert mode == "" and "must rise within 1e-06 s; its fastest edge is 5e-06 s" in why
