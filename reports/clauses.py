"""Which standard clauses were confirmed against public sources, and where.

The standards themselves are sold, not published; a clause number a plan or a spec
names is printed as a fact only when a public source confirms what the clause is. Every
other clause is printed with a mark (†) and a note that it is not confirmed against the
standard's text, as the spec itself says of several of them.
"""

from __future__ import annotations

MARK = "†"
NOTE = (
    "† not confirmed against the standard's text: the clause number is the spec's or the "
    "plan's, and no public source was found that confirms it."
)

# clause -> (what it is, the public source that says so)
CONFIRMED: dict[str, tuple[str, str]] = {
    "UN 38.3 T.5": (
        "external short circuit",
        "UN Manual of Tests and Criteria, Part III, sub-section 38.3, test list T.1-T.8 "
        "(as listed in published test summaries, e.g. TÜV Rheinland Taiwan 10059320 001)",
    ),
    "UN 38.3 T.7": (
        "overcharge",
        "UN Manual of Tests and Criteria, Part III, sub-section 38.3, test list T.1-T.8 "
        "(as listed in published test summaries, e.g. TÜV Rheinland Taiwan 10059320 001)",
    ),
}


def confirmed(clause: str) -> bool:
    return " ".join(clause.split()) in CONFIRMED


def marked(clause: str) -> str:
    """The clause as a report prints it: with † unless it was confirmed."""
    return clause if confirmed(clause) else f"{clause}{MARK}"


def sources(clauses: list[str]) -> list[tuple[str, str, str]]:
    """(clause, what it is, source) for the confirmed ones among `clauses`."""
    out = []
    for clause in clauses:
        key = " ".join(clause.split())
        if key in CONFIRMED and all(key != c for c, _, _ in out):
            out.append((key, *CONFIRMED[key]))
    return out
