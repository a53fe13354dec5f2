"""Fluke 5522A multi-product calibrator as a programmable resistance (one NTC).

The calibrator's synthesized ohms output stands in for a thermistor: `OUT <ohms> OHM`
sets it, `OPER`/`STBY` connect and disconnect the terminals, `OUT?` answers the
amplitude and its unit first (`1.000000E+04,OHM,...`), and the error queue is read
with `ERR?` (5520A/5522A remote command reference). Range 0 Ω to 1100 MΩ.

Accuracy (`ACCURACY`): the 5522A's 1-year resistance specifications (± ppm of output +
floor Ω) as recalled from Fluke's 5522A specifications; NOT confirmed against a stored
copy, so every entry's source says "(unconfirmed)". A station file should replace them
with the unit's calibration certificate.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pymeasure.instruments import Instrument
from pymeasure.instruments.validators import strict_discrete_set, strict_range

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.errors import InstrumentReplyError
from instruments.scpi import ScpiInstrument, scpi_bool
from instruments.serial_line import SerialLine
from instruments.thermistors.base import SingleResistance

R_MAX = 1.1e9
_SPEC = (
    "Fluke 5522A Extended Specifications (revision not read), Resistance Specifications "
    "table, 1 year (unconfirmed)"
)


def _ppm(ppm: float, floor: float, range_max: float) -> Accuracy:
    return Accuracy(ppm * 1e-4, floor, range_max, _SPEC)


def _ohms(fields: Any) -> float:
    """`OUT?` → the resistance; any other function in force is an error, not a number."""
    if not isinstance(fields, list) or len(fields) < 2:
        raise InstrumentReplyError("OUT?", str(fields), "expected <amplitude>,<unit>,...")
    value, unit = str(fields[0]).strip(), str(fields[1]).strip().upper()
    if unit != "OHM":
        raise InstrumentReplyError("OUT?", ",".join(map(str, fields)), "output is not ohms")
    try:
        return float(value)
    except ValueError:
        raise InstrumentReplyError("OUT?", ",".join(map(str, fields)), "bad amplitude") from None


class Fluke5522A(SingleResistance, ScpiInstrument):
    """Fluke 5522A calibrator; its ohms output emulates one NTC."""

    VENDORS = ("FLUKE", "Fluke")
    MODEL = "5522A"
    HAS_OPT = True
    ERROR_QUERY = "ERR?"
    # RS-232 "SERIAL 1 FROM HOST" factory setup: 9600 8N1, XON/XOFF, replies end CR LF
    SERIAL = SerialLine(flow_control="xon_xoff", read_termination="\r\n")
    RESISTANCE_RANGE = (0.0, R_MAX)
    ACCURACY: ClassVar[AccuracyTable] = {
        "resistance_set": (
            _ppm(40, 0.001, 10.9999),
            _ppm(30, 0.0015, 32.9999),
            _ppm(28, 0.0014, 109.9999),
            _ppm(28, 0.002, 329.9999),
            _ppm(28, 0.002, 1_099.999),
            _ppm(28, 0.02, 3_299.999),
            _ppm(28, 0.02, 10_999.99),
            _ppm(28, 0.2, 32_999.99),
            _ppm(28, 0.2, 109_999.9),
            _ppm(32, 2.0, 329_999.9),
            _ppm(32, 2.0, 1_099_999),
            _ppm(60, 30.0, 3_299_999),
            _ppm(130, 50.0, 10_999_990),
            _ppm(250, 2_500.0, 32_999_900),
            _ppm(400, 3_000.0, 109_999_000),
            _ppm(3_000, 100_000.0, 329_990_000),
            _ppm(15_000, 500_000.0, R_MAX),
        ),
    }

    resistance_setpoint = Instrument.control(
        "OUT?",
        "OUT %g OHM",
        """Control the synthesized resistance (Ω), 0-1.1e9.""",
        validator=strict_range,
        values=[0, R_MAX],
        cast=str,
        get_process_list=_ohms,
        check_set_errors=True,
    )

    output_state = Instrument.control(
        "OPER?",
        "%s",
        """Control whether the output terminals are connected (OPER) or not (STBY).""",
        validator=strict_discrete_set,
        values=(True, False),
        set_process=lambda on: "OPER" if on else "STBY",
        cast=scpi_bool,
        check_set_errors=True,
    )

    lead_compensation = Instrument.control(
        "ZCOMP?",
        "ZCOMP %s",
        """Control the ohms lead compensation: NONE, WIRE2 or WIRE4.""",
        validator=strict_discrete_set,
        values=("NONE", "WIRE2", "WIRE4"),
        cast=str,
        check_set_errors=True,
    )
