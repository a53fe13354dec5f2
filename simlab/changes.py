"""A token replaced whenever the bench changes in a way its circuit solution has not seen.

Every measurement query solves the circuit first, yet most follow another query with
nothing changed in between, so the solution would come out the same. `Bench.solve` notes
the token it solved at, and `Bench.refresh` (what a measurement runs) solves again only
when the token has been replaced since.

Who marks a change, and who need not:

- a SCPI command that is not a query may write the hardware: the device marks it before
  running it (`ScpiDevice`), and so does a supply's protection latch turning its output
  off after a solve;
- a link fault added or cleared, and a failed regulator holding its output elsewhere
  (`simlab.faults`, `Lab._solve`), mark it;
- LFP cells whose charge moved with time (`Bench.step`) mark it;
- everything else that writes what the solution reads solves at once, as it always has:
  the firmware's FETs and balancing, parameters, relays moving, the safe state and an
  instrument reboot from simlab's side (`World.solve`). Code that writes the hardware
  directly (a test) calls `World.solve()` after it, as the lab does; a world it built
  by hand (`World.writes_marked` False) also solves first at every time step, for such
  a write, where a lab's starts on `Bench.settle`.

A time step ends on `Bench.settle`: the token unchanged, and nothing that time alone
moves (a short relay, a current still ramping, LFP cells), the last solution stands. The
shunt's warming marks a change too, for what reads it live; a bench knows a token only
its warming replaced, and neither `refresh` nor `settle` solves again for that.

One token for the whole process: a change anywhere makes every bench solve again (at
worst a solve too many, never one too few). Replacing a module global is a single store,
so two threads marking at once cannot bring an old token back, and a token a bench still
holds is never reused for a new one.
"""

from __future__ import annotations

_token: object = object()


def token() -> object:
    """The current token: compare with `is` to the one taken at the last solve."""
    return _token


def touch() -> None:
    """Mark a change the solution has not seen yet."""
    global _token
    _token = object()
