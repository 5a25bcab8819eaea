"""Reading descriptor files: YAML 1.2 documents, duplicate keys refused, positions for errors.

Backstage parses descriptors as YAML 1.2 (``yes``/``no``/``on`` and dates stay strings, ``<<`` is an
ordinary key) and refuses duplicate keys. The fast path is ``yaml_rs`` (a Rust YAML 1.2 parser,
about six times faster than libyaml through PyYAML); PyYAML with a YAML 1.2 resolver is the
fallback and the one that explains errors with line and column. Positions are recovered only when
something is wrong, by composing the file once more.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

try:  # pragma: no cover - exercised whichever way the environment is installed
    import yaml_rs
except ImportError:  # pragma: no cover
    yaml_rs = None  # type: ignore[assignment]

# Appended to every file so that yaml_rs always returns a list of documents: it returns a lone
# document unwrapped, which would make a one-document list indistinguishable from two documents.
_SENTINEL_KEY = "__pavedroad_end_of_file__"
_SENTINEL = f"\n---\n{_SENTINEL_KEY}: true\n"

_CoreLoaderBase: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DescriptorSyntaxError(Exception):
    """A file that cannot be read as YAML at all; nothing in it is ingested."""

    def __init__(
        self, message: str, *, line: int | None = None, column: int | None = None, hint: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.hint = hint


@dataclass(slots=True)
class Document:
    """One YAML document of a descriptor file; ``index`` counts empty documents too."""

    index: int
    data: Any


class _Yaml12Resolver(yaml.resolver.Resolver):
    """Implicit types of the YAML 1.2 core schema instead of PyYAML's YAML 1.1 ones."""


_Yaml12Resolver.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
):
    _Yaml12Resolver.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


class _Constructor(yaml.constructor.SafeConstructor):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in seen:
                first = seen[key].start_mark
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f'duplicate key "{key}" (first defined at line {first.line + 1})',
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)


_Constructor.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:int", _Constructor.construct_yaml_int
)


class _DescriptorLoader(_CoreLoaderBase, _Constructor, _Yaml12Resolver):  # type: ignore[misc]
    """libyaml's parser with the YAML 1.2 resolver and the duplicate-key check."""

    def __init__(self, stream: str) -> None:
        _CoreLoaderBase.__init__(self, stream)  # type: ignore[misc]


def parse_documents(text: str) -> list[Document]:
    """Every non-empty document of ``text``; raises :class:`DescriptorSyntaxError` on bad YAML."""
    if yaml_rs is not None:
        try:
            values = yaml_rs.loads(text + _SENTINEL, parse_datetime=False)
        except (yaml_rs.YAMLDecodeError, ValueError, RecursionError) as error:
            _raise_explained(text, str(error))
        else:
            if isinstance(values, list) and values and values[-1] == {_SENTINEL_KEY: True}:
                return [Document(i, v) for i, v in enumerate(values[:-1]) if v is not None]
    return _parse_with_pyyaml(text)


def _raise_explained(text: str, fast_message: str) -> None:
    """Re-parse with PyYAML for a precise message; fall back to yaml_rs's own words."""
    _parse_with_pyyaml(text)
    position = re.search(r"line (\d+), column (\d+)", fast_message)
    problem = fast_message.strip().splitlines()[-1] if fast_message.strip() else "invalid YAML"
    raise DescriptorSyntaxError(
        f"YAML syntax error: {problem}",
        line=int(position.group(1)) if position else None,
        column=int(position.group(2)) if position else None,
        hint=_syntax_hint(problem),
    )


def _parse_with_pyyaml(text: str) -> list[Document]:
    loader = _DescriptorLoader(text)
    documents: list[Document] = []
    try:
        index = 0
        while loader.check_data():  # type: ignore[no-untyped-call]
            data = loader.get_data()
            if data is not None:
                documents.append(Document(index, data))
            index += 1
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or "invalid YAML"
        if error.context and "duplicate key" not in problem:
            problem = f"{problem} {error.context}"
        raise DescriptorSyntaxError(
            f"YAML syntax error: {problem}",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            hint=_syntax_hint(problem),
        ) from None
    except yaml.YAMLError as error:
        raise DescriptorSyntaxError(f"YAML syntax error: {error}") from None
    finally:
        loader.dispose()
    return documents


def _syntax_hint(problem: str) -> str:
    if "duplicate key" in problem:
        return "remove one of the two keys; YAML keeps only one and Backstage refuses the file"
    if "tab" in problem:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in problem:
        return "quote values that contain ': ' or check the indentation of this line"
    return "check the indentation and quoting around this line"


def decode(content: bytes) -> str:
    """UTF-8 text of a descriptor; a clear error names the first byte that is not UTF-8."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        raise DescriptorSyntaxError(
            f"file is not UTF-8 text (byte 0x{content[error.start]:02x} at offset {error.start})",
            line=line,
            hint="save the file as UTF-8",
        ) from None


class Positions:
    """Line and column (1-based) of field paths in a file's documents, composed once on demand."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._nodes: list[yaml.Node | None] | None = None

    def locate(self, document_index: int, path: Sequence[str | int]) -> tuple[int, int] | None:
        """Where ``path`` is in a document, or its nearest existing parent."""
        if self._nodes is None:
            try:
                self._nodes = list(yaml.compose_all(self._text, Loader=_DescriptorLoader))
            except yaml.YAMLError:
                self._nodes = []
        if document_index >= len(self._nodes) or self._nodes[document_index] is None:
            return None
        node = self._nodes[document_index]
        assert node is not None
        mark = node.start_mark
        for part in path:
            child = _child(node, part)
            if child is None:
                break
            mark, node = child
        return mark.line + 1, mark.column + 1


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Mark, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                return key_node.start_mark, value_node
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item = node.value[part]
        return item.start_mark, item
    return None
