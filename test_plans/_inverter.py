"""What a CAN BMS asks of its inverter: its charge voltage and current limits, how they
follow its derating table, and how it signals a lost link and a protection event.

All of it is the BMS's own word (`evidence: dut`), read from its broadcasts (Pylontech
0x351 limits, 0x355 SoC, 0x359 flags); the stimuli are the station's:

- **temperature**: every NTC emulated at the middle of each band of the spec's table
  (within the station's limits), the BMS's reported charge and discharge limits judged
  against the band's (at the SoC the BMS reports, through the SoC table), to half the
  protocol's step. Each point stays clear of the band's edges by more than the
  temperature stimulus's accuracy and the BMS's reading step, or the plan is an error
  before anything is sent;
- **state of charge** (`long`): the charger or the load drives the pack until the BMS's
  own SoC reaches each of `soc_points_pct`; the limits there are judged against the
  table at the SoC it reports (the SoC's accuracy is the state-of-charge plans' to judge);
- **lost link**: the rig withholds the inverter's keep-alive; within the spec's
  `lost_link.after_s` the BMS must ask for its `charge_a` and raise its warning, and
  stop once keep-alives come again;
- **protection event**: a cell over-voltage trips the charge path (seen on the charger's
  current); the BMS must then ask for 0 A of charge and clear charge enable, with its
  over-voltage flag.
"""

from __future__ import annotations

from dut_drivers.base import BmsLink, BmsStatus
from rig.clock import Clock
from rig.config import DutSpec
from rig.config.campaign_spec import InverterLimits, LimitRow
from rig.measure import rectangular, wait_for
from rig.plugin.fixtures import Ready, Recorder
from rig.safety import check_limit
from rig.station import Station
from test_plans._isolation import NotIsolated
from test_plans._power_path import PowerPath
from test_plans._trip import against

READING_STEP_C = 0.1  # the BMS reads its NTCs to 0.1 °C


def settings(spec: DutSpec) -> InverterLimits:
    if spec.inverter_limits is None:
        raise LookupError("the spec has no inverter_limits section")
    return spec.inverter_limits


def _limits_record(
    record: Recorder,
    name: str,
    status: BmsStatus,
    expected: tuple[float, float],
    s: InverterLimits,
    context: dict[str, object],
) -> None:
    """The BMS's charge and discharge limits against the table's, each to half a step:
    what it broadcasts is a setting it decides, exact, judged by the simple rule."""
    assert status.limits is not None
    half = s.step_a / 2
    for what, value, want in (
        ("charge", status.limits.charge_current, expected[0]),
        ("discharge", status.limits.discharge_current, expected[1]),
    ):
        record(
            f"{name}_{what}_limit",
            value,
            "A",
            low=want - half,
            high=want + half,
            nominal=want,
            clause=s.clause,
            exact=True,
            evidence="dut",
            instrument="dut",
            context={**context, "soc_pct": status.soc_percent, "table_a": want},
            note=f"BMS asks {value:g} A {what}; its table says {want:g} A",
        )


def _fresh_status(dut: BmsLink, clock: Clock, spec: DutSpec) -> BmsStatus:
    """A status from broadcasts sent after the stimulus settled (a period and more)."""
    clock.sleep(spec.reporting.report_timeout_s)
    return dut.read_status()


def _points(s: InverterLimits, station: Station, margin: float) -> list[tuple[LimitRow, float]]:
    """Each temperature band's middle within the station's limits (and clear of the
    band's edges by `margin`); bands the station cannot reach are left out."""
    lim = station.config.limits.temperature
    out = []
    for row in s.by_temperature:
        low, high = max(row.low, lim.min), min(row.high, lim.max)
        if high - low <= 2 * margin:
            continue
        out.append((row, round((low + high) / 2, 1)))
    return out


def temperature_derating(
    station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder
) -> None:
    s = settings(spec)
    therm = station.thermistors
    ntcs = therm.positions
    # clear of each edge by the stimulus's accuracy there and the BMS's reading step
    worst = max(therm.reference_band(n, t)[0] for n in ntcs for t in (-30.0, 0.0, 25.0, 50.0, 80.0))
    margin = worst + READING_STEP_C
    points = _points(s, station, margin)
    if not points:
        raise NotIsolated("no band of inverter_limits.by_temperature lies within the station's")
    lim = station.config.limits.temperature
    for _, t in points:
        check_limit("thermistors", "temperature", t, lim.min, lim.max, "°C")
    status = _fresh_status(dut, clock, spec)
    assert status.limits is not None
    record(
        "inverter_charge_voltage",
        status.limits.charge_voltage,
        "V",
        **against(s.charge_voltage_v, s.clause),
        exact=True,
        evidence="dut",
        instrument="dut",
        note=f"BMS asks a charge voltage of {status.limits.charge_voltage:g} V",
    )
    try:
        for row, t in points:
            therm.set_all(t)
            status = _fresh_status(dut, clock, spec)
            refs = [therm.reference(n) for n in ntcs]
            expected = s.expected(t, status.soc_percent)
            assert expected is not None
            _limits_record(
                record, f"inverter_at_{t:g}C", status, expected, s,
                {"temperature_c": t, "band_c": [row.low, row.high],
                 "station_c": [r.celsius for r in refs],
                 "reported_c": list(status.temperatures_c)},
            )  # fmt: skip
    finally:
        therm.set_all(therm.SAFE_C)


def soc_derating(
    station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder
) -> None:
    """Drive the pack until the BMS's own SoC reaches each point; judge its limits there."""
    s = settings(spec)
    tc = spec.test_conditions
    amps = s.soc_current_a
    limits = station.config.limits
    check_limit("cells", "cell current", amps, 0.0, limits.cell_current.max, "A")
    check_limit("charger", "charge current", amps, 0.0, limits.charge_current.max, "A")
    check_limit("load", "discharge current", amps, 0.0, limits.discharge_current.max, "A")
    station.cells.set_current_limit(min(limits.cell_current.max, amps * 1.2 + 0.1))
    # the BMS is read while the pack moves (and the link kept alive), at least every half
    # SoC point's worth of charge
    poll = min(600.0, 0.5 * 0.01 * spec.dut.capacity_ah / amps * 3600)
    for target in s.soc_points_pct:
        status = dut.read_status()
        up = target > status.soc_percent
        path = PowerPath(station, spec, "charge" if up else "discharge")
        path.current_a = amps
        path.start(station.cells.count * tc.nominal_cell_voltage)

        def reached(target: float = target, up: bool = up) -> bool:
            return (dut.read_status().soc_percent >= target) == up

        hours = abs(target - status.soc_percent) / 100 * spec.dut.capacity_ah / amps
        waited = wait_for(clock, reached, 1.5 * hours * 3600 + poll, poll)
        path.stop()
        status = _fresh_status(dut, clock, spec)
        expected = s.expected(25.0, status.soc_percent)
        if waited is None or expected is None:
            record(
                f"inverter_at_soc{target:g}_charge_limit", None, "A", low=None, high=None,
                clause=s.clause, evidence="dut", instrument="dut",
                note=f"the BMS's SoC did not reach {target:g} % ({status.soc_percent:g} %)",
            )  # fmt: skip
            continue
        _limits_record(
            record, f"inverter_at_soc{target:g}", status, expected, s,
            {"soc_target_pct": target, "temperature_c": 25.0},
        )  # fmt: skip


def lost_link(
    station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder
) -> None:
    """Keep-alives withheld: the BMS must signal the lost link within `after_s`."""
    s = settings(spec)
    ll = s.lost_link
    assert ll is not None
    hold = getattr(dut, "hold_keepalive", None)
    if hold is None:
        raise LookupError(f"the {dut.protocol} link cannot withhold the inverter's keep-alive")
    status = dut.read_status()  # keep-alives flowing: the link is up
    assert status.limits is not None
    up_charge = status.limits.charge_current
    period = 1.0
    hold(True)
    try:
        seen: list[BmsStatus] = []

        def signalled() -> bool:
            seen.append(dut.read_status())
            st = seen[-1]
            assert st.limits is not None
            return ll.flag in st.alarms and abs(st.limits.charge_current - ll.charge_a) < s.step_a

        t0 = clock.now()
        waited = wait_for(clock, signalled, 3 * ll.after_s.high, period)
        after = clock.now() - t0
    finally:
        hold(False)
    value = waited
    budget = []
    if value is not None:
        # broadcasts come once a period: the signal is seen up to a period late
        budget = [rectangular("broadcast period", period / 2, "the BMS's broadcast period, 1 s")]
        value = max(value - period / 2, 0.0)
    record(
        "inverter_lost_link_signalled_after",
        value,
        "s",
        **against(ll.after_s, s.clause),
        budget=budget,
        evidence="dut",
        instrument="dut",
        context={"charge_limit_before_a": up_charge, "looked_s": after},
        note=""
        if waited is not None
        else f"no {ll.flag} and charge limit {ll.charge_a:g} A "
        f"within {after:g} s of the keep-alive stopping",
    )
    back = wait_for(clock, lambda: ll.flag not in dut.read_status().alarms, 3 * period + 5, period)
    record.flag(
        "inverter_link_restored",
        back is not None,
        clause=s.clause,
        note="the warning cleared once keep-alives came again"
        if back is not None
        else "the warning stayed after keep-alives came again",
    )


def protection_event(
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    ready: Ready,
) -> None:
    """A cell over-voltage trips the charge path; the BMS's broadcast must follow it."""
    s = settings(spec)
    ov = spec.protections.cell_ov
    tc = spec.test_conditions
    cell = spec.cells_under_test[0]
    level = ov.threshold_v.high + tc.search_margin_v
    path = PowerPath(station, spec, "charge")
    path.start((station.cells.count - 1) * tc.nominal_cell_voltage + level)
    try:
        station.cells.set_voltage(cell, level)
        tripped = wait_for(
            clock, lambda: path.interrupted(path.read()), 4 * ov.delay_s.high, tc.poll_period_s
        )
        status = _fresh_status(dut, clock, spec)
    finally:
        path.stop()
        station.cells.set_voltage(cell, tc.nominal_cell_voltage)
    context = {"cell": cell, "level_v": level, "path_cut": tripped is not None}
    assert status.limits is not None
    record(
        "inverter_at_protection_charge_limit",
        status.limits.charge_current,
        "A",
        low=0.0,
        high=s.step_a / 2,
        nominal=0.0,
        clause=s.clause,
        exact=True,
        evidence="dut",
        instrument="dut",
        context=context,
        note=f"charger's current {'stopped' if tripped is not None else 'still flowing'}; "
        f"the BMS asks {status.limits.charge_current:g} A of charge",
    )
    record.flag(
        "inverter_at_protection_charge_disabled",
        not status.charge_fet,
        clause=s.clause,
        context=context,
        note=f"charge enable {'on' if status.charge_fet else 'off'} with cell {cell} "
        f"at {level:g} V",
    )
    record.flag(
        "inverter_at_protection_flag",
        status.indicates("cell_ov"),
        clause=s.clause,
        context=context,
        note=f"BMS reports: {', '.join(sorted(status.protections or ())) or 'nothing'}",
    )
