"""One reader per ecosystem; each adds what its manifests say to a :class:`Findings`.

Only the repository's root (and a few conventional places such as ``cmd/*`` or ``src/*``) is
read: discovery proposes one Component per repository, and the root manifest says what that
repository is.
"""

from __future__ import annotations

from collections.abc import Callable

from pavedroad.catalog.discovery.ecosystems import (
    containers,
    dotnet,
    go,
    jvm,
    node,
    php,
    python,
    ruby,
    rust,
)
from pavedroad.catalog.discovery.files import RepoFiles
from pavedroad.catalog.discovery.findings import Findings

Reader = Callable[[RepoFiles, Findings], None]

READERS: tuple[Reader, ...] = (
    python.read,
    node.read,
    go.read,
    jvm.read,
    rust.read,
    ruby.read,
    dotnet.read,
    php.read,
    containers.read,
)
"""In this order; the order decides the order of tags and of evidence."""
