"""`python -m simlab serve ...` (see simlab.serve)."""

from __future__ import annotations

import sys

from simlab.serve import serve


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "serve":
        print(
            "usage: python -m simlab serve --station FILE [--set PATH=VALUE]... "
            "[--defect SPEC]... [--seed N] [--watch-stdin]",
            file=sys.stderr,
        )
        return 2
    return serve(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
