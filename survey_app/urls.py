"""The one check for an address built from request data (a login's ``next=``, the path the language link repeats):
only a path of this site goes through, anything else becomes the caller's fallback."""

from __future__ import annotations


def safe_local_url(target: str | None, fallback: str) -> str:
    """``target`` if it is a path of this site, else ``fallback``.

    Browsers read a backslash as a slash and drop tabs and line breaks anywhere in a URL, so ``/\\evil.example``,
    ``/<TAB>/evil.example`` and ``//evil.example`` all lead to another host; an absolute URL does too.
    """
    if not target or not target.startswith("/") or target.startswith("//") \
            or any(c == "\\" or ord(c) < 32 or c == "\x7f" for c in target):
        return fallback
    return target
