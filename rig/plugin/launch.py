"""pytest as `rig run` starts it: its arguments parsed and the selection checked before
anything starts, every refusal said once in the rig's own words.

`pytest.main()` parses its arguments only once it runs, and a refusal then comes as
pytest's own usage text naming `pytest.main()`; a bad `-m` expression is found only at
collection, after the simulated lab has started and the run folder exists. So `rig run`
does what `pytest.main()` does in two steps: the configuration is prepared first (the
options parsed, the plugins loaded: the imports the run needs anyway), the `-k` and `-m`
expressions are compiled and every marker `-m` names is checked against the markers the
plans know; only then is the session run on that same configuration.
"""

from __future__ import annotations

import re

import pytest

from rig.plugin.markers import MARKERS

# pytest's own marks a plan may carry (and so an `-m` may name)
PYTEST_MARKS = ("skip", "skipif", "xfail", "parametrize", "usefixtures", "filterwarnings")
_KEYWORDS = {"and", "or", "not", "True", "False", "None"}


class LaunchError(Exception):
    """What is wrong with the command line, in the rig's words (exit 2, nothing started)."""


def known_markers() -> list[str]:
    return sorted({name.split("(")[0] for name in MARKERS} | set(PYTEST_MARKS))


def prepare(args: list[str]) -> pytest.Config:
    """pytest's configuration for `args`, its options parsed; LaunchError if they are not
    pytest's or the rig's."""
    from _pytest.config import _prepareconfig  # what pytest.main() does first

    try:
        config = _prepareconfig(args)
    except pytest.UsageError as exc:
        raise LaunchError(_usage_words(str(exc))) from None
    check_selection(config.option.keyword, config.option.markexpr)
    return config


def run(config: pytest.Config) -> int:
    """The rest of `pytest.main()`: the session on the prepared configuration."""
    try:
        try:
            code = config.hook.pytest_cmdline_main(config=config)
        finally:
            config._ensure_unconfigure()
    except pytest.UsageError as exc:  # raised by the rig's own session start (simlab's no)
        raise LaunchError(" ".join(str(a) for a in exc.args)) from None
    return int(code)


def check_selection(keyword: str, markexpr: str) -> None:
    """`-k` and `-m` compiled as pytest will; every marker `-m` names must be one a plan
    can carry (a typo would silently select nothing, or everything with `not`)."""
    for option, text in (("-k", keyword), ("-m", markexpr)):
        if not text:
            continue
        try:
            expression = _compile(text)
        except SyntaxError as exc:
            where = f" at column {exc.offset}" if exc.offset else ""
            raise LaunchError(
                f"{option} {text!r} is not a selection expression{where}: {exc.msg} "
                f"(write names joined by and, or, not and parentheses)"
            ) from None
        if option == "-m":
            known = known_markers()
            unknown = sorted(_idents(expression, text) - set(known))
            if unknown:
                raise LaunchError(
                    f"-m {text!r}: unknown marker{'s' if len(unknown) > 1 else ''} "
                    f"{', '.join(unknown)}; known markers: {', '.join(known)}"
                )


def _compile(text: str):
    from _pytest.mark.expression import Expression

    return Expression.compile(text)


def _idents(expression, text: str) -> set[str]:
    idents = getattr(expression, "idents", None)
    if idents is not None:
        return set(idents())
    # older pytest: the names, without keywords and keyword arguments of a marker
    text = re.sub(r"\([^()]*=[^()]*\)", "", text)
    return {t for t in re.findall(r"[\w:+\-.\[\]\\/]+", text) if t not in _KEYWORDS}


def _usage_words(text: str) -> str:
    """pytest's usage error without its usage line and its `pytest.main()` name."""
    found = re.search(r"error: (.*)", text)
    message = found[1] if found else text.strip().splitlines()[-1]
    if message.startswith("unrecognized arguments"):
        message += (
            " (rig run --help lists the rig's options; -k, -m, -x and pytest's other "
            "options pass through)"
        )
    return message
