"""Cross-site form posts are refused: a page elsewhere cannot make a person's browser decide.

Why it matters even though casepilot does not authenticate: behind a sign-on proxy the
browser's cookies make every request the person's, so a hostile page that posts to
``/ui/inbox/…`` would decide in their name. Browsers say where a request comes from
(``Sec-Fetch-Site``, ``Origin``); a state-changing page request from another site is
answered 403 before anything runs. Requests without those headers (scripts, curl) are
not browser-driven and pass.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

__all__ = ["cross_site"]


def cross_site(request: Request) -> str | None:
    """Why ``request`` looks cross-site (a reason to show), or None when it is same-site or not from a browser."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return f"the request came from another site (Sec-Fetch-Site: {fetch_site})"
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc.lower() != host.lower():
            return f"the request came from {origin}, not from this server ({host})"
    elif origin == "null":
        return "the request came from an opaque origin (a sandboxed frame or a file)"
    return None
