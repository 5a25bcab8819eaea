"""Entity names: Backstage's object-name format, and the fix we suggest for a refused name.

A name that "looks right" but is refused usually holds a letter from another script; the error
names that letter and suggests the name retyped in plain ASCII.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pavedroad.catalog.problems import Problem, format_problem

OBJECT_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

# Letters from other scripts that render like ASCII ones; named in errors so that a name which
# "looks right" but is refused makes sense to the person who typed or pasted it.
_LOOKALIKES = {
    "а": "a",
    "е": "e",
    "о": "o",
    "р": "p",
    "с": "c",
    "у": "y",
    "х": "x",
    "і": "i",
    "ј": "j",
    "ѕ": "s",
    "һ": "h",
    "ԁ": "d",
    "ɡ": "g",
    "А": "A",
    "В": "B",
    "Е": "E",
    "К": "K",
    "М": "M",
    "Н": "H",
    "О": "O",
    "Р": "P",
    "С": "C",
    "Т": "T",
    "Х": "X",
    "ο": "o",
    "α": "a",
    "ν": "v",
    "ρ": "p",
    "τ": "t",
    "ι": "i",
    "κ": "k",
    "Α": "A",
    "Β": "B",
    "Ε": "E",
    "Ζ": "Z",
    "Η": "H",
    "Ι": "I",
    "Κ": "K",
    "Μ": "M",
    "Ν": "N",
    "Ο": "O",
    "Ρ": "P",
    "Τ": "T",
    "Υ": "Y",
    "Χ": "X",
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "−": "-",
    "․": ".",
    "ı": "i",
}


def is_object_name(value: Any) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 63 and OBJECT_NAME.match(value) is not None


def check_name(name: str) -> list[Problem]:
    if is_object_name(name):
        return []
    expected = "letters and digits separated by '-', '_' or '.', at most 63 characters"
    problem = format_problem("metadata.name", name, expected)
    lookalike = _first_lookalike(name)
    if lookalike:
        char, position, ascii_char = lookalike
        problem.message += (
            f'; character {position + 1} is "{char}" '
            f"({unicodedata.name(char, f'U+{ord(char):04X}')}),"
            f' which looks like "{ascii_char}" but is not ASCII'
        )
        problem.hint = f'retype the name in plain ASCII, e.g. "{_to_ascii(name)}"'
    elif len(name) > 63:
        problem.message += f"; it has {len(name)} characters"
        problem.hint = f'shorten it to 63 characters or fewer, e.g. "{name[:63].rstrip("-_.")}"'
    else:
        problem.hint = f'e.g. "name: {suggest_name(name)}"'
    return [problem]


def _first_lookalike(text: str) -> tuple[str, int, str] | None:
    for position, char in enumerate(text):
        if ord(char) < 128:
            continue
        ascii_char = _LOOKALIKES.get(char) or unicodedata.normalize("NFKD", char)[:1]
        if ascii_char and ord(ascii_char) < 128:
            return char, position, ascii_char
        return char, position, "?"
    return None


def _to_ascii(text: str) -> str:
    converted = "".join(
        _LOOKALIKES.get(c) or unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode()
        for c in text
    )
    return suggest_name(converted)


def suggest_name(value: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(value)).strip("-_.")[:63].strip("-_.")
    return cleaned or "my-service"


def suggest_label(value: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-")[:63].strip("-")
    return cleaned or "default"
