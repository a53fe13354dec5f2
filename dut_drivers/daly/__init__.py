"""Daly BMS, UART/RS485 protocol (13-byte frames, data IDs 0x90-0x98)."""
