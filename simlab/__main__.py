"""`python -m simlab serve | params | defects` (see simlab.serve, simlab.catalogue)."""

from __future__ import annotations

import os
import sys

USAGE = """usage: python -m simlab serve --station FILE [--set PATH=VALUE]... [--defect SPEC]...
                            [--seed N] [--speed X | --driven] [--watch-stdin]
                            [--final-state FILE] [--write-station FILE]
       python -m simlab params --station FILE [--json]
       python -m simlab defects [--json]"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    if command == "serve":
        from simlab.serve import serve

        return serve(rest)
    if command in ("params", "defects"):
        from simlab import catalogue

        return getattr(catalogue, command)(rest)
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    code = main()
    # The lab is stopped and its last state written: leave without tearing down the
    # interpreter's module graph (numpy and friends), which a parent would wait for.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
