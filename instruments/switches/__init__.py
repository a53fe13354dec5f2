"""Switch mainframes: the short-circuit relay and fault insertion (open a sense lead,
short or open an NTC line), one channel per path."""
