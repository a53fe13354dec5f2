"""Function / arbitrary waveform generators: current-sense emulation into a BMS's shunt."""
