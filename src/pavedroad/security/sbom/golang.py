"""Go modules: ``go.mod`` (``require`` lines and blocks, ``// indirect``, ``replace``
directives) with ``go.sum`` consulted: a required module without a checksum there is a
warning (``go mod tidy`` fixes it; the build would refuse it)."""

from __future__ import annotations

from pathlib import Path

from pavedroad.security.sbom.packages import (
    LockfileError,
    LockfileProblem,
    LockfileRead,
    Unpinned,
    locked,
)
from pavedroad.security.sbom.positions import read_source

ECOSYSTEM = "Go"
_BLOCKS = ("require", "replace", "exclude", "retract", "tool", "godebug", "ignore")


def read_go_mod(path: Path, root: Path) -> LockfileRead:
    file, text = read_source(path, root)
    requires: list[tuple[str, str, bool, int]] = []  # module, version, indirect, line
    replaces: dict[tuple[str, str | None], tuple[str, str | None]] = {}
    block: str | None = None
    module: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        code, _, comment = raw.partition("//")
        words = code.split()
        if not words:
            continue
        if block is not None:
            if words == [")"]:
                block = None
                continue
            directive, arguments = block, words
        else:
            directive, arguments = words[0], words[1:]
            if arguments == ["("]:
                if directive not in _BLOCKS:
                    raise LockfileError(f"{directive} ( is not a go.mod block", number)
                block = directive
                continue
        if directive == "module":
            module = arguments[0].strip('"') if arguments else None
        elif directive == "require":
            if len(arguments) != 2:
                raise LockfileError(
                    f"require needs a module path and a version: {raw.strip()!r}", number
                )
            requires.append((arguments[0].strip('"'), arguments[1], "indirect" in comment, number))
        elif directive == "replace":
            replaces.update(_replace(arguments, raw, number))
        elif directive not in ("go", "toolchain", *_BLOCKS):
            raise LockfileError(f"unknown go.mod directive {directive!r}", number)
    if module is None:
        raise LockfileError("no module directive: this is not a go.mod file", 1)
    checksums = _go_sum(path.parent / "go.sum", root)
    read = LockfileRead(file=file, format="go.mod")
    for name, version, indirect, number in requires:
        target = replaces.get((name, version)) or replaces.get((name, None))
        if target is not None:
            replacement, replaced_version = target
            if replaced_version is None:
                read.unpinned.append(
                    Unpinned(
                        ECOSYSTEM,
                        name,
                        f"{name} {version} => {replacement}",
                        file,
                        number,
                        "replaced by a local folder",
                    )
                )
                continue
            name, version = replacement, replaced_version
        if checksums is not None and (name, version) not in checksums:
            read.warnings.append(
                LockfileProblem(
                    file, number, f"go.sum has no checksum for {name} {version}: run go mod tidy"
                )
            )
        read.packages.append(locked(ECOSYSTEM, name, version, file, number, direct=not indirect))
    return read


def _replace(
    arguments: list[str], raw: str, number: int
) -> dict[tuple[str, str | None], tuple[str, str | None]]:
    if "=>" not in arguments:
        raise LockfileError(f"replace needs '=>': {raw.strip()!r}", number)
    cut = arguments.index("=>")
    old, new = arguments[:cut], arguments[cut + 1 :]
    if len(old) not in (1, 2) or len(new) not in (1, 2):
        raise LockfileError(f"cannot read the replace directive {raw.strip()!r}", number)
    local = new[0].startswith((".", "/")) or len(new) == 1
    return {(old[0], old[1] if len(old) == 2 else None): (new[0], None if local else new[1])}


def _go_sum(path: Path, root: Path) -> set[tuple[str, str]] | None:
    """The (module, version) pairs whose content go.sum checks; None without a go.sum."""
    if not path.is_file():
        return None
    file, text = read_source(path, root)
    found: set[tuple[str, str]] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3 or not parts[2].startswith("h1:"):
            raise LockfileError("not a go.sum line (module version h1:hash)", number, file=file)
        if not parts[1].endswith("/go.mod"):
            found.add((parts[0], parts[1]))
    return found
