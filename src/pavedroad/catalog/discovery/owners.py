"""Who owns a repository, from its CODEOWNERS file, as a Backstage owner ref.

GitHub reads the first of ``.github/CODEOWNERS``, ``CODEOWNERS`` and ``docs/CODEOWNERS``;
GitLab also reads ``.gitlab/CODEOWNERS``. The owner of the whole repository is the first
owner of the last rule for ``*`` (or ``/``, ``/**``, ...), since the last matching rule wins in
CODEOWNERS; without such a rule, the first owner of the first rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pavedroad.catalog.discovery.files import RepoFiles

CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")
WHOLE_REPOSITORY = frozenset({"*", "/", "/*", "**", "/**", "**/*", "/**/*"})
PLACEHOLDER_OWNER = "group:needs-owner"
"""The owner of a proposal nobody claimed: a group that does not exist, so the gap shows."""
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class OwnerGuess:
    """An owner ref and why; ``placeholder`` when someone must still set the real owner."""

    ref: str
    reason: str
    placeholder: bool = False


def guess_owner(files: RepoFiles) -> OwnerGuess:
    for path in CODEOWNERS_PATHS:
        text = files.text(path)
        if text is None:
            continue
        rules = parse_codeowners(text)
        whole = [owners for pattern, owners in rules if pattern in WHOLE_REPOSITORY and owners]
        chosen = whole[-1] if whole else next((owners for _, owners in rules if owners), None)
        if chosen is None:
            return _placeholder(f"{path} names no owner this catalog can refer to")
        which = "the last rule for the whole repository" if whole else "its first rule"
        others = f" (also listed: {', '.join(chosen[1:])})" if len(chosen) > 1 else ""
        return OwnerGuess(chosen[0], f"owner {chosen[0]}: {which} in {path}{others}")
    return _placeholder("no CODEOWNERS file")


def _placeholder(why: str) -> OwnerGuess:
    return OwnerGuess(
        PLACEHOLDER_OWNER,
        f"owner {PLACEHOLDER_OWNER} is a placeholder ({why}): set spec.owner to the owning team",
        placeholder=True,
    )


def parse_codeowners(text: str) -> list[tuple[str, list[str]]]:
    """``(pattern, owner refs)`` per rule; GitLab section headers are skipped."""
    rules = []
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line or line.startswith(("[", "^[")):
            continue
        pattern, *tokens = line.split()
        rules.append((pattern, [ref for ref in map(owner_ref, tokens) if ref]))
    return rules


def owner_ref(token: str) -> str | None:
    """``@org/team`` → ``team`` (a Group), ``@user`` → ``user:user``, an email → ``user:local``."""
    if token.startswith("@") and "/" in token:
        return _name(token.rsplit("/", 1)[1])
    if token.startswith("@"):
        name = _name(token[1:])
        return f"user:{name}" if name else None
    if _EMAIL.match(token):
        name = _name(token.split("@", 1)[0])
        return f"user:{name}" if name else None
    return None


def _name(text: str) -> str | None:
    name = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")[:63].strip("-._")
    return name or None
