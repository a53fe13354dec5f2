"""The real instrument models simlab emulates, one module each."""
