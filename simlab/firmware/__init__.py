"""The BMS firmware model: ADC, protection table, FETs, coulomb counting, defects."""

from simlab.firmware.defects import CATALOGUE, Defect, DefectKind, DefectSet, parse_defect
from simlab.firmware.model import BmsStatus, Firmware, FirmwareParams
from simlab.firmware.protections import PROTECTION_BITS, TABLE, ProtectionParams, ProtectionRow

__all__ = [
    "CATALOGUE",
    "PROTECTION_BITS",
    "TABLE",
    "BmsStatus",
    "Defect",
    "DefectKind",
    "DefectSet",
    "Firmware",
    "FirmwareParams",
    "ProtectionParams",
    "ProtectionRow",
    "parse_defect",
]
