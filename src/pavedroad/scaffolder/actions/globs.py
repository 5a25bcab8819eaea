"""Glob patterns as Backstage's copy lists use them (globby with ``dot: true``): ``*`` within a
path segment, ``**`` across segments, ``?``, ``[abc]`` and ``{a,b}``."""

from __future__ import annotations

import re
from collections.abc import Iterable


def glob_regex(pattern: str) -> re.Pattern[str]:
    text = pattern.removeprefix("./")
    out = ""
    index = 0
    while index < len(text):
        char = text[index]
        if text.startswith("**/", index):
            out += "(?:.*/)?"
            index += 3
            continue
        if text.startswith("**", index):
            out += ".*"
            index += 2
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[":
            end = text.find("]", index + 1)
            if end == -1:
                out += re.escape(char)
            else:
                out += "[" + text[index + 1 : end].replace("!", "^", 1) + "]"
                index = end
        elif char == "{":
            end = text.find("}", index + 1)
            if end == -1:
                out += re.escape(char)
            else:
                options = text[index + 1 : end].split(",")
                out += "(?:" + "|".join(glob_regex(o).pattern[:-2] for o in options) + ")"
                index = end
        else:
            out += re.escape(char)
        index += 1
    return re.compile(out + r"\Z")


def matches_any(path: str, patterns: Iterable[str]) -> bool:
    """Whether ``path`` (a directory ends with ``/``) matches one of ``patterns``."""
    name = path.rstrip("/")
    for pattern in patterns:
        regex = glob_regex(pattern.rstrip("/"))
        if regex.match(name):
            return True
    return False
