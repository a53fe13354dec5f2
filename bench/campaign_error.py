"""The campaign's plans against simlab's truth, over seeds and random in-spec parameters.

`bench/trip_error.py` does this for the protections; this does it for the rest of a
validation campaign: measurement accuracy, cell imbalance, sense-wire and NTC faults,
standby and sleep, and FET heating. For each seed it draws random firmware parameters
inside the default spec's bands, runs the plans through `rig run` as a user would, and
compares each value with what simlab knows:

- cell imbalance threshold and release: the spread at which the board's 1 mV readings
  (the others at 3.300 V, the lowered cell rounded) first meet the setting; its delay,
  and the fault detection times and the time to fall asleep: the events simlab logged,
  from the step the record names (`t_step`);
- the current reading errors: the board's reading (gain, offset, its 10 mA code) minus
  the current it was given; the NTC reading errors: the board's reading of the line's
  resistance minus the temperature the station set (the DMM reads that resistance);
- the standby draws: the board's consumption settings; the months: capacity / draw;
- the FET rise after the heat run: I²R·Rth·(1 - exp(-t/τ)) (a heat run of its own: the
  default bench carries 2.5 A, so the FETs' resistance and heatsink (`physics.fet.*`)
  are drawn for a rise of 10 to 36 K there).

Prints per quantity the count, the mean and largest error, the largest error over its
stated U, and how often |error| <= U (and the bracket held the truth, where there is one).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from rig.results import read_records  # noqa: E402
from simlab.firmware.model import NtcParams  # noqa: E402

SPEC = REPO / "specs" / "jbd-16s-lfp.yaml"
SELECT = "imbalance or wiring or standby or reporting"
ADC_STEP_V = 0.001
CODE_A = 0.01
NOMINAL_V = 3.30
HOURS_PER_MONTH = 730.5
HEAT_A = 2.5


def draw(rng: random.Random) -> list[str]:
    """Random firmware parameters well inside the default spec's bands."""
    u = rng.uniform
    values = {
        "firmware.adc_noise_v": 0,
        "firmware.cell_imbalance.threshold_v": u(0.46, 0.54),
        "firmware.cell_imbalance.release_v": u(0.26, 0.34),
        "firmware.cell_imbalance.delay_s": u(4.2, 5.8),
        "firmware.sense_wire_open.delay_s": u(0.2, 2.5),
        "firmware.temp_sensor_fault.delay_s": u(0.2, 2.5),
        "firmware.board.active_current_a": u(0.006, 0.019),
        "firmware.board.sleep_current_a": u(2e-5, 1.9e-4),
        "firmware.board.sleep_after_s": u(3350, 3850),
        "firmware.current_gain": u(0.995, 1.005),
        "firmware.current_offset_a": u(-0.05, 0.05),
    }
    return [f"{k}={v:.9g}" for k, v in values.items()]


def draw_heat(rng: random.Random) -> list[str]:
    """A board whose FETs dissipate 0.8..2 W at 2.5 A on 12..18 K/W (a 10..36 K rise)."""
    u = rng.uniform
    watts = u(0.8, 2.0)
    values = {
        "physics.fet.r_on_ohm": watts / HEAT_A**2,
        "physics.fet.rth_k_w": u(12.0, 18.0),
        "physics.fet.tau_s": u(200.0, 500.0),
    }
    return [f"{k}={v:.9g}" for k, v in values.items()]


def run(seed: int, sets: list[str], runs: Path, spec: Path, select: str) -> list[dict]:
    args = [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs), "--seed", str(seed)]
    args += ["--no-report", "--spec", str(spec), "-k", select]
    for item in sets:
        args += ["--sim-set", item]
    subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)
    (run_dir,) = runs.iterdir()
    return read_records(run_dir)


def _q(volts: float) -> float:
    return round(round(volts / ADC_STEP_V) * ADC_STEP_V, 9)


def spread_edge(setting: float, releasing: bool) -> float:
    """The spread (others at nominal, one cell lowered) where the board's reading of it
    first meets the setting (trips: >=; releases: <)."""

    def past(level: float) -> bool:
        spread = round(_q(NOMINAL_V) - _q(NOMINAL_V - level), 9)
        return spread < setting - 1e-9 if releasing else spread >= setting - 1e-9

    lo, hi = setting - 0.05, setting + 0.05
    going_up = past(hi)
    for _ in range(60):
        mid = (lo + hi) / 2
        if past(mid) == going_up:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def station_celsius(ohms: float, r25: float = 10_000.0, beta: float = 3435.0) -> float:
    """The station's NTC curve (the default station: 10 kΩ, B 3435 K)."""
    return 1 / (1 / 298.15 + math.log(ohms / r25) / beta) - 273.15


def _event_after(events: list[dict], kind: str, t0: float, protection: str | None = None) -> float:
    for e in events:
        if (
            e["kind"] == kind
            and e["t"] >= t0
            and (protection is None or e["protection"] == protection)
        ):
            return e["t"] - t0
    raise LookupError(f"no {kind} {protection or ''} after {t0}")


def truth_of(m: dict, truth: dict, events: list[dict]) -> float | None:
    name, fw, ctx = m["name"], truth["firmware"], m["context"]
    if name == "cell_imbalance_threshold":
        return spread_edge(fw["cell_imbalance"]["threshold_v"], False)
    if name == "cell_imbalance_release":
        return spread_edge(fw["cell_imbalance"]["release_v"], True)
    if name == "cell_imbalance_trip_delay":
        return _event_after(events, "trip", ctx["t_step"], "cell_imbalance")
    if name.endswith("_detect_time"):
        which = "sense_wire_open" if name.startswith("sense_lead") else "temp_sensor_fault"
        return _event_after(events, "trip", ctx["t_step"], which)
    if name == "standby_time_to_sleep":
        return _event_after(events, "sleep", ctx["t_step"])
    board = fw["board"]
    if name == "standby_awake_current":
        return board["active_current_a"]
    if name == "standby_asleep_current":
        return board["sleep_current_a"]
    if name.startswith("standby_months_"):
        return ctx["capacity_ah"] / (
            board["active_current_a" if name.endswith("awake") else "sleep_current_a"]
            * HOURS_PER_MONTH
        )
    if name.startswith("current_reading_error"):
        amps = ctx["level_a"]
        reading = round(
            round((amps * fw["current_gain"] + fw["current_offset_a"]) / CODE_A) * CODE_A, 9
        )
        return reading - amps
    if name.startswith("ntc") and "_reading_error_at_" in name:
        keys = ("count", "r25_ohm", "beta_k", "pullup_ohm", "adc_bits")
        board_ntc = NtcParams(**{k: fw["ntc"][k] for k in keys})
        return board_ntc.read(ctx["line_ohms"]) - station_celsius(ctx["line_ohms"])
    if name == "heating_fet_rise":
        fet = truth["physics"]["fet"]
        watts = HEAT_A**2 * fet["r_on_ohm"]
        return watts * fet["rth_k_w"] * (1 - math.exp(-3600 / fet["tau_s"]))
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8, help="how many seeds")
    seeds = range(1, ap.parse_args().seeds + 1)
    rng = random.Random(2027)
    rows: dict[str, list[tuple[float, float, bool | None, str]]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        heat = yaml.safe_load(SPEC.read_text())
        heat["heating"]["current_a"] = HEAT_A
        heat["heating"]["rise_c"] = {"nominal": 27.0, "low": 0.0, "high": 40.0}
        heat_spec = Path(tmp) / "heat.yaml"
        heat_spec.write_text(yaml.safe_dump(heat, sort_keys=False, allow_unicode=True))
        for seed in seeds:
            batches = [
                run(seed, draw(rng), Path(tmp) / f"s{seed}", SPEC, SELECT),
                run(seed, draw_heat(rng), Path(tmp) / f"h{seed}", heat_spec, "heating"),
            ]
            for records in batches:
                sim = next(r for r in records if r["type"] == "sim_truth")
                for m in (r for r in records if r["type"] == "measurement"):
                    if m["value"] is None or m.get("exact"):
                        continue
                    if m["name"].startswith("cell") and "_reading_error_" in m["name"]:
                        continue  # noise off: the reading is the rounding, nothing to learn
                    truth = truth_of(m, sim["truth"], sim["events"])
                    if truth is None:
                        continue
                    held = None
                    if m["bracket"] is not None:
                        lo, hi = m["bracket"]
                        held = lo - 1e-9 <= truth <= hi + 1e-9
                    rows[m["name"].split("_at_")[0]].append(
                        (m["value"] - truth, m["uncertainty"] or 0.0, held, m["unit"])
                    )
    print(f"{len(seeds)} seeds, random in-spec parameters, plans: {SELECT}, heating")
    print(f"{'quantity':32s} {'n':>3s} {'mean err':>11s} {'max |err|':>11s} "
          f"{'max |err|/U':>11s} {'within U':>9s} {'bracket':>8s}")  # fmt: skip
    worst = 0.0
    for name, items in sorted(rows.items()):
        errors = [e for e, *_ in items]
        ratios = [abs(e) / u if u else math.inf for e, u, *_ in items]
        within = sum(1 for r in ratios if r <= 1.0)
        held = [h for *_, h, _ in items if h is not None]
        unit = items[0][3]
        worst = max(worst, max(ratios))
        bracket = f"{sum(held)}/{len(held)}" if held else "-"
        print(
            f"{name:32s} {len(items):3d} {statistics.mean(errors):+11.4g} "
            f"{max(abs(e) for e in errors):11.4g} {max(ratios):11.3f} "
            f"{within:4d}/{len(items):<4d} {bracket:>8s}  {unit}"
        )
    print(f"largest |error| / U: {worst:.3f} (every value within its U: {worst <= 1.0})")
    return 0 if worst <= 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
