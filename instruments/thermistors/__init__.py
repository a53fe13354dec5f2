"""Programmable resistances that stand in for a BMS's NTC thermistors."""
