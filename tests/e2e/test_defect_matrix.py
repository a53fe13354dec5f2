"""A defect of each mechanism in simlab's catalogue fails the plan that targets it, and
only that plan (`SUITE` in bench/defect_matrix.py; the benchmark runs every defect).

One `rig run` per defect (and one without, every plan), on a reduced spec (cell 16 and
NTC 2, no pack levels: every other kind of plan once, 35 plans), two at a time. Each
defect's run holds the plans it targets and one plan of every other kind (the
witnesses), which must pass: the broken protection fails its own plans and, thanks to the
recovery between plans, no other. The expectations and the runner are
bench/defect_matrix.py's, which runs every plan per defect by default and prints the
count. A defect added to the catalogue without an expectation fails the first test; a
defect no plan targets yet (none today) must leave every plan passing.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from simlab.firmware.defects import CATALOGUE
from tests.e2e.conftest import REPO


def _bench_module():
    """bench/ is scripts, not a package: load the matrix module from its file."""
    spec = importlib.util.spec_from_file_location(
        "defect_matrix", REPO / "bench" / "defect_matrix.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("defect_matrix", module)
    spec.loader.exec_module(module)
    return module


# One fixture runs every defect (about 47 runs, two at a time): its own time limit, so a
# loaded machine slows it without failing it; a hang still ends it.
pytestmark = pytest.mark.timeout(1200)

_matrix = _bench_module()
EXPECTED, SUITE, CONFIGS = _matrix.EXPECTED, _matrix.SUITE, _matrix.CONFIGS
run_matrix = _matrix.run_matrix


def test_every_defect_in_the_catalogue_has_an_expectation():
    assert set(EXPECTED) == set(CATALOGUE)
    assert set(SUITE) <= set(CATALOGUE) and len(set(SUITE)) == len(SUITE)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    return run_matrix(
        tmp_path_factory.mktemp("matrix"), workers=2, witnesses=True, defects=list(SUITE)
    )


def test_without_a_defect_every_plan_passes(matrix):
    baseline, _ = matrix
    assert baseline.returncode == 0
    assert len(baseline.plans) == 35 and set(baseline.plans.values()) == {"passed"}
    assert not baseline.not_run
    assert set(_matrix.WITNESSES) <= set(baseline.plans)


def test_each_configuration_of_its_own_passes_without_a_defect(matrix):
    """The defects the default bench cannot serve (a heat run, a CAN BMS) run on their
    own configuration; each configuration without a defect passes every plan."""
    _, outcomes = matrix
    clean = [o for o in outcomes if o.clean]
    configs: list[dict] = []
    for d in SUITE:
        if d in CONFIGS and CONFIGS[d] not in configs:
            configs.append(CONFIGS[d])
    assert len(clean) == len(configs)
    for o in clean:
        assert o.returncode == 0 and set(o.plans.values()) == {"passed"}, (o.defect, o.plans)


@pytest.mark.parametrize("defect", SUITE)
def test_defect_fails_its_plan_and_the_rest_are_measured(matrix, defect):
    baseline, outcomes = matrix
    (o,) = [o for o in outcomes if o.defect == defect and not o.clean]
    if o.untargeted:  # nothing measures it yet: it must not disturb any plan
        assert o.returncode == 0 and set(o.plans.values()) == {"passed"}, o.failed_measurements
        return
    assert o.returncode != 0
    assert o.caught, f"{defect} not caught by {o.missed}: {o.failed_measurements}"
    assert o.contained, f"{defect} spilled into {o.spilled}: {o.failed_measurements}"
    if defect in _matrix.CONFIGS:  # its own configuration: the plans chosen for it ran
        assert set(o.plans) == set(_matrix.CONFIGS[defect]["select"])
    elif EXPECTED[defect] is not None:  # every selected plan ran: recovery kept the run going
        assert list(o.plans) == _matrix.selection(defect, list(baseline.plans))


# The score's rules, on outcomes made by hand (no run): what counts as caught, as not
# observable on a station, and as not decidable there.
Outcome, mutation_score = _matrix.Outcome, _matrix.mutation_score


def _outcome(defect, plans, conditional=None, station=None, **kw):
    o = Outcome(defect, 1, 0.0, plans=plans, expected=EXPECTED[defect], **kw)
    where = station or "sim-16s.yaml"
    o.undecidable = _matrix.UNDECIDED.get((where, defect), {})
    o.unheard = _matrix.unheard(defect, station and f"stations/{station}")
    o.conditional = conditional or {}
    return o


def test_a_defect_heard_only_through_a_capability_the_link_lacks_has_no_plan_there():
    assert _matrix.unheard("unreported_balance", None) == ""  # JBD reports its mask
    why = _matrix.unheard("unreported_balance", "stations/sim-16s-jk-gps.yaml")
    assert "jk_gps" in why and "balancing" in why
    o = _outcome(
        "unreported_balance", {"test_balance_current": "passed"}, station="sim-16s-jk-gps.yaml"
    )
    score = mutation_score(o, [o])
    assert score.absent == {"unreported_balance": why} and score.applicable == 0 and score.perfect


def test_a_plan_the_station_cannot_decide_counts_only_when_it_ends_conditional():
    plans = {
        "test_charge_oc_threshold": "passed",
        "test_discharge_oc1_threshold": "failed",
        "test_discharge_oc2_threshold": "failed",
        "test_current_reporting": "failed",
    }
    cond = {"test_charge_oc_threshold": ["charge_oc_threshold 7.275 ± 0.33 A"]}
    dg822 = _outcome("current_gain", plans, cond, station="sim-16s-dg822.yaml")
    assert dg822.caught and not dg822.missed  # by the three plans that decide it
    assert dg822.undecided("test_charge_oc_threshold")
    # the same plan passing outright, or conditional on a station not named, is a miss
    assert _outcome("current_gain", plans, station="sim-16s-dg822.yaml").missed == [
        "test_charge_oc_threshold"
    ]
    assert (
        "test_charge_oc_threshold conditional"
        in mutation_score(dg822, [dg822]).partly["current_gain"]
    )
    assert not _outcome("current_gain", plans, cond).caught
    # no plan left that decides it: seen, not caught, and counted apart
    alone = _outcome(
        "current_gain", {"test_charge_oc_threshold": "passed"}, cond, station="sim-16s-dg822.yaml"
    )
    score = mutation_score(alone, [alone])
    assert not alone.caught and list(score.undecided) == ["current_gain"]
    assert score.applicable == 0 and score.perfect


def test_a_miswired_bench_is_observed_only_where_a_pin_check_can_run():
    stopped = _outcome("swapped_wiring", {}, pin_check_failed=True)
    stopped.pin_check, stopped.pin_check_decides = "cell 1 is read as cell 5", True
    assert mutation_score(stopped, [stopped]).caught == ["swapped_wiring"]
    module = _outcome("swapped_wiring", {"test_charge_oc_threshold": "passed"})  # no cells
    score = mutation_score(module, [module])
    assert "no cell emulators" in score.absent["swapped_wiring"] and score.perfect


def test_plans_kept_from_starting_by_a_bms_no_power_cycle_can_reset_are_not_a_spill(tmp_path):
    plans = {"test_charge_ot_threshold_and_release[ntc2]": "failed"}
    not_run = {"test_charge_ot_trip_delay[ntc2]": "setup error"}
    unready = {"test_charge_ot_threshold_and_release[ntc2]", "test_charge_ot_trip_delay[ntc2]"}
    module = _outcome("release_blocked", plans, not_run=not_run, unready=unready, resettable=False)
    assert module.caught and module.contained
    assert module.unreset == ["test_charge_ot_trip_delay[ntc2]"]
    assert mutation_score(module, [module]).unreset == {"release_blocked": module.unreset}
    emulated = _outcome("release_blocked", plans, not_run=not_run, unready=unready)
    assert not emulated.contained  # cell emulators can power-cycle it: a spill
    # the module bench power-cycles its board through the relay in its supply feed;
    # without that relay nothing on it can
    module_file = REPO / "stations" / "sim-16s-module.yaml"
    assert _matrix.resets_the_bms(None) and _matrix.resets_the_bms(str(module_file))
    bare = tmp_path / "module-without-supply-relay.yaml"
    text = module_file.read_text()
    bare.write_text(text.replace("  dut_supply: daq:102", "  # dut_supply: daq:102"))
    assert not _matrix.resets_the_bms(str(bare))


def test_a_run_without_a_defect_may_end_conditional_only_where_the_station_cannot_decide():
    plans = {"test_standby_and_sleep": "passed", "test_soc_idle": "passed"}
    cond = {"test_standby_and_sleep": ["standby_asleep_current 100 ± 5774 µA"]}
    failed = {"test_standby_and_sleep": ["standby_asleep_current"]}
    kw = {"conditional": cond, "failed_measurements": failed}
    n83624 = Outcome("(none)", 1, 0.0, plans=plans, **kw)
    n83624.undecidable = _matrix.UNDECIDED[("sim-16s-n83624.yaml", "")]
    assert n83624.passes
    assert not Outcome("(none)", 1, 0.0, plans=plans, **kw).passes  # elsewhere: not clean
    assert Outcome("(none)", 0, 0.0, plans=plans).passes
