"""A one-paragraph description from a README: the first paragraph of prose, in plain text."""

from __future__ import annotations

import re

from pavedroad.catalog.discovery.files import RepoFiles

MAX_DESCRIPTION = 280
README_PATTERNS = ("readme.md", "readme.rst", "readme.txt", "readme", "readme.*")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"[*_`]{1,3}([^*_`]+)[*_`]{1,3}")
_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")


def readme_paragraph(files: RepoFiles) -> tuple[str, str] | None:
    """``(file, paragraph)`` of the first README at the root that has prose, or None."""
    for pattern in README_PATTERNS:
        for path in files.names("", pattern, ignore_case=True):
            paragraph = first_paragraph(files.text(path) or "")
            if paragraph:
                return path, paragraph
    return None


def first_paragraph(text: str) -> str:
    """The first run of prose lines: headings, badges, HTML, directives and front matter skipped."""
    lines = _without_front_matter(text.splitlines())
    paragraph: list[str] = []
    for index, raw in enumerate(lines):
        line = raw.strip()
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if _is_decoration(line) or (_UNDERLINE.match(following) and line):
            if paragraph:
                break
            continue
        if not line:
            if paragraph:
                break
            continue
        paragraph.append(line)
    return shorten(_plain(" ".join(paragraph)))


def shorten(text: str, limit: int = MAX_DESCRIPTION) -> str:
    """At most ``limit`` characters, cut at a word and marked with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.") + "…"


def _without_front_matter(lines: list[str]) -> list[str]:
    if lines and lines[0].strip() == "---":
        for index, line in enumerate(lines[1:], start=1):
            if line.strip() == "---":
                return lines[index + 1 :]
    return lines


def _is_decoration(line: str) -> bool:
    return (
        line.startswith(("#", "<", "![", "[![", ".. ", ":", "|", "```", "---", "==="))
        or _UNDERLINE.match(line) is not None
        or (line.startswith("[") and "]: " in line)  # a link reference definition
    )


def _plain(text: str) -> str:
    return _MARKUP.sub(r"\1", _LINK.sub(r"\1", text)).strip()
