"""Every defect in simlab's catalogue fails the plan that targets it, and only that plan.

One `rig run` per defect (and one without), on a reduced spec (cell 16 and NTC 2, no pack
levels: every other kind of plan once, 19 plans), two at a time; the expectations and the runner are
bench/defect_matrix.py's, which prints the same matrix with its count. A defect added to
the catalogue without an expectation here fails the first test.
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


_matrix = _bench_module()
EXPECTED, run_matrix = _matrix.EXPECTED, _matrix.run_matrix


def test_every_defect_in_the_catalogue_has_an_expectation():
    assert set(EXPECTED) == set(CATALOGUE)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    return run_matrix(tmp_path_factory.mktemp("matrix"), workers=2)


def test_without_a_defect_every_plan_passes(matrix):
    baseline, _ = matrix
    assert baseline.returncode == 0
    assert len(baseline.plans) == 19 and set(baseline.plans.values()) == {"passed"}
    assert not baseline.not_run


@pytest.mark.parametrize("defect", list(CATALOGUE))
def test_defect_fails_its_plan_and_the_rest_are_measured(matrix, defect):
    _, outcomes = matrix
    (o,) = [o for o in outcomes if o.defect == defect]
    assert o.returncode != 0
    assert o.caught, f"{defect} not caught by {o.missed}: {o.failed_measurements}"
    assert o.contained, f"{defect} spilled into {o.spilled}: {o.failed_measurements}"
    if EXPECTED[defect] is not None:
        assert len(o.plans) == 19  # every plan ran: recovery kept the run going
