"""Who may act: the token, and requests that come from the panel's own page.

Reading needs nothing (the panel listens on loopback unless told otherwise). Starting,
stopping and answering need the token in the `X-Rig-Token` header (a header, so it never
lands in a URL, a log line or the browser's history). A POST is also refused when the
browser says it comes from another site (`Origin` or `Sec-Fetch-Site`), and when its body
is not JSON: a page elsewhere cannot send JSON with a custom header without a CORS
preflight, and the panel answers no preflight. The Host header must name this machine's
loopback or the address the panel was bound to, so a name rebound to 127.0.0.1 (DNS
rebinding) reaches nothing.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

TOKEN_HEADER = "x-rig-token"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def check_origin(request: Request) -> None:
    """403 for a POST that a browser says comes from elsewhere, or that is not JSON."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise HTTPException(403, "cross-site request refused")
    origin = request.headers.get("origin")
    if origin is not None:
        host = request.headers.get("host", "")
        parts = urlsplit(origin)
        if parts.netloc != host or parts.scheme not in ("http", "https"):
            raise HTTPException(403, "cross-site request refused")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise HTTPException(415, "send JSON")


def check_token(request: Request, token: str) -> None:
    """401 without a token, 403 with a wrong one."""
    given = request.headers.get(TOKEN_HEADER)
    if not given:
        raise HTTPException(401, "this action needs the panel's token (X-Rig-Token header)")
    if not secrets.compare_digest(given.encode(), token.encode()):
        raise HTTPException(403, "wrong token")


def allowed_hosts(bind: str) -> list[str]:
    hosts = ["127.0.0.1", "localhost", "[::1]", "::1"]
    if bind not in ("0.0.0.0", "::", ""):
        hosts.append(bind)
    else:
        hosts.append("*")  # bound to every address on purpose: any name may reach it
    return hosts
