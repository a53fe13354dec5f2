"""Digitizers for trip-time captures: a digitizing DMM and an oscilloscope."""
