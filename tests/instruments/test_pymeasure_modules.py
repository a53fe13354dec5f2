"""PyMeasure driver modules loaded without their makers' packages (and so without pandas)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from instruments.pymeasure_modules import pymeasure_module

# run in a fresh interpreter: this one may have imported pandas for another test
_CHECK = """
import sys
import instruments.generators.keysight_33500b as generator
import instruments.power_supplies.keysight_e36312a as supply
assert "pandas" not in sys.modules, "a driver pulled in pandas"
from pymeasure.instruments.agilent import Agilent33500
from pymeasure.instruments.keysight import KeysightE36312A
assert generator.Agilent33500 is Agilent33500 and supply.PyMeasureE36312A is KeysightE36312A
print("ok")
"""


def test_the_drivers_load_without_pandas_and_keep_pymeasures_classes():
    done = subprocess.run(
        [sys.executable, "-c", _CHECK], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_name_outside_pymeasures_instruments_is_refused():
    with pytest.raises(ValueError, match="not a PyMeasure instrument module"):
        pymeasure_module("pandas.core")
    with pytest.raises(ImportError, match="no PyMeasure module"):
        pymeasure_module("pymeasure.instruments.nomaker.nomodule")
