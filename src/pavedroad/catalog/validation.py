"""Backstage's rules for the entity envelope and metadata, with our own words and fix hints.

Two levels, as in Backstage: :func:`check_envelope` finds problems that make a document
unreadable (not a mapping, no apiVersion/kind/metadata.name); :func:`check_metadata` applies the
field-format and schema policies every entity must pass. Kind-specific rules live in ``kinds``.
Each problem carries a category equal to the label Backstage's verdict uses in the conformance
data, the field path, and a hint that says how to fix it.

Name rules and suggestions live in ``names``; :class:`Problem` and the common schema messages
in ``problems``; the names other modules import from here are re-exported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pavedroad.catalog.names import (
    OBJECT_NAME,
    check_name,
    is_object_name,
    suggest_label,
    suggest_name,
)
from pavedroad.catalog.problems import (
    Path,
    Problem,
    describe,
    dotted,
    format_problem,
    missing,
    pointer,
    wrong_type,
)

__all__ = [
    "API_VERSION_SUFFIX",
    "DNS_LABEL",
    "DNS_SUBDOMAIN_LABEL",
    "KIND",
    "OBJECT_NAME",
    "ROOT_FIELDS",
    "SCHEMA_ROOT_FIELDS",
    "TAG",
    "Path",
    "Problem",
    "check_envelope",
    "check_metadata",
    "describe",
    "dotted",
    "get_path",
    "is_object_name",
    "kind_not_allowed",
    "missing",
    "pointer",
    "wrong_type",
]

DNS_LABEL = re.compile(r"^[a-z0-9]+(?:-+[a-z0-9]+)*$")
DNS_SUBDOMAIN_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
API_VERSION_SUFFIX = re.compile(r"^[a-z0-9A-Z]+$")
KIND = re.compile(r"^[a-zA-Z][a-z0-9A-Z]*$")
TAG = re.compile(r"^[a-z0-9:+#]+(\-[a-z0-9:+#]+)*$")
ROOT_FIELDS = ("apiVersion", "kind", "metadata", "spec")
SCHEMA_ROOT_FIELDS = (*ROOT_FIELDS, "relations", "status")


# -- envelope ---------------------------------------------------------------------------------


def check_envelope(document: Any) -> list[Problem]:
    """Problems that stop a document from being read as an entity at all (whole file fails)."""
    if not isinstance(document, dict):
        return [
            Problem(
                "document-not-an-object",
                f"a descriptor document must be a mapping with apiVersion, kind and metadata; "
                f"found {describe(document)}",
                hint="start the document with 'apiVersion: backstage.io/v1alpha1' and 'kind: ...'",
                fatal=True,
            )
        ]
    problems = []
    for key, example in (("apiVersion", "backstage.io/v1alpha1"), ("kind", "Component")):
        value = document.get(key)
        if value is None:
            problems.append(missing((), key, f'add e.g. "{key}: {example}" at the top'))
        elif not isinstance(value, str) or not value:
            problems.append(wrong_type((key,), "string", value, f'e.g. "{key}: {example}"'))
    metadata = document.get("metadata")
    if metadata is None:
        problems.append(missing((), "metadata", 'add "metadata:" with at least "name: my-service"'))
    elif not isinstance(metadata, dict):
        problems.append(wrong_type(("metadata",), "object", metadata))
    else:
        name = metadata.get("name")
        if name is None:
            problems.append(
                missing(("metadata",), "name", 'e.g. "name: payments-api" under metadata')
            )
        elif not isinstance(name, str) or not name:
            problems.append(wrong_type(("metadata", "name"), "string", name))
        namespace = metadata.get("namespace")
        if namespace is not None and (not isinstance(namespace, str) or not namespace):
            problems.append(wrong_type(("metadata", "namespace"), "string", namespace))
        annotations = metadata.get("annotations")
        if annotations is not None and not isinstance(annotations, dict):
            problems.append(wrong_type(("metadata", "annotations"), "object", annotations))
    for problem in problems:
        problem.fatal = True
    return problems


def kind_not_allowed(kind: str, allowed: list[str]) -> Problem:
    return Problem(
        "kind-not-allowed-by-catalog-rules",
        f'kind "{kind}" is not allowed in the catalog (allowed: {", ".join(allowed)})',
        ("kind",),
        "use one of the allowed kinds, or add it to PAVEDROAD_CATALOG__ALLOWED_KINDS with a "
        "plugin that validates it",
        fatal=True,
    )


# -- field formats and the metadata schema ----------------------------------------------------


def check_metadata(entity: dict[str, Any]) -> list[Problem]:
    """Backstage's schema and field-format policies, in the order Backstage applies them."""
    problems: list[Problem] = []
    for key in entity:
        if key not in ROOT_FIELDS:
            problems.append(
                Problem(
                    "schema:<root> must NOT have additional properties",
                    f'unknown top-level field "{key}"; an entity has only apiVersion, kind, '
                    "metadata and spec",
                    (key,),
                    f'move "{key}" under spec or metadata.annotations, or remove it',
                )
            )
    spec = entity.get("spec")
    if spec is not None and not isinstance(spec, dict):
        problems.append(wrong_type(("spec",), "object", spec))
    problems.extend(_check_api_version(entity["apiVersion"]))
    if not _is_valid_kind(entity["kind"]):
        problems.append(
            format_problem("kind", entity["kind"], "a letter followed by letters and digits")
        )
    metadata = entity["metadata"]
    problems.extend(check_name(metadata["name"]))
    namespace = metadata.get("namespace")
    if namespace is not None and not _is_dns_label(namespace):
        problems.append(
            format_problem(
                "metadata.namespace",
                namespace,
                "lower-case letters and digits separated by '-', at most 63 characters",
                hint=f'e.g. "namespace: {suggest_label(namespace)}"',
            )
        )
    problems.extend(_check_meta_fields(metadata))
    return problems


def _check_api_version(value: str) -> list[Problem]:
    prefix, _, suffix = value.rpartition("/")
    valid = (
        value.count("/") <= 1
        and 1 <= len(suffix) <= 63
        and API_VERSION_SUFFIX.match(suffix) is not None
        and (not value.count("/") or _is_dns_subdomain(prefix))
    )
    if valid:
        return []
    return [
        format_problem(
            "apiVersion",
            value,
            "an optional DNS-name prefix and a version of letters and digits, like "
            "backstage.io/v1alpha1",
            hint='most descriptors use "apiVersion: backstage.io/v1alpha1"',
        )
    ]


def _is_valid_kind(value: str) -> bool:
    return 1 <= len(value) <= 63 and KIND.match(value) is not None


def _is_dns_label(value: Any) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 63 and DNS_LABEL.match(value) is not None


def _is_dns_subdomain(value: str) -> bool:
    return 1 <= len(value) <= 253 and all(
        len(label) <= 63 and DNS_SUBDOMAIN_LABEL.match(label) for label in value.split(".")
    )


def _check_meta_fields(metadata: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for key in ("title", "description"):
        value = metadata.get(key)
        if value is not None and (not isinstance(value, str) or (key == "title" and not value)):
            problems.append(wrong_type(("metadata", key), "string", value))
    problems.extend(_check_key_values(metadata, "labels"))
    problems.extend(_check_key_values(metadata, "annotations"))
    problems.extend(_check_tags(metadata.get("tags")))
    problems.extend(_check_links(metadata.get("links")))
    return problems


def _check_key_values(metadata: dict[str, Any], which: str) -> list[Problem]:
    values = metadata.get(which)
    if values is None:
        return []
    if not isinstance(values, dict):
        return [wrong_type(("metadata", which), "object", values)]
    problems = []
    singular = which[:-1]
    for key, value in values.items():
        path: Path = ("metadata", which, key)
        if not _is_prefixed_name(str(key)):
            problems.append(
                Problem(
                    f"field-format:{which}",
                    f'{singular} key "{key}" is not valid: expected an optional DNS-name '
                    "prefix and "
                    "'/', then letters and digits separated by '-', '_' or '.'",
                    path,
                    f'e.g. "example.com/{suggest_name(str(key).rpartition("/")[2])}"',
                )
            )
        if not isinstance(value, str):
            problems.append(wrong_type(path, "string", value, f'quote the value: {key}: "{value}"'))
        elif which == "labels" and value and not is_object_name(value):
            problems.append(
                Problem(
                    "field-format:labels",
                    f'label value "{value}" of "{key}" is not valid: expected letters and digits '
                    "separated by '-', '_' or '.', at most 63 characters",
                    path,
                    "labels are for short machine-readable values; use an annotation for free text",
                )
            )
    return problems


def _is_prefixed_name(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if key.count("/") > 1:
        return False
    if slash and not _is_dns_subdomain(prefix):
        return False
    return is_object_name(name)


def _check_tags(tags: Any) -> list[Problem]:
    if tags is None:
        return []
    if not isinstance(tags, list):
        return [wrong_type(("metadata", "tags"), "array", tags, 'e.g. "tags: [python, payments]"')]
    problems = []
    for index, tag in enumerate(tags):
        if not isinstance(tag, str):
            problems.append(wrong_type(("metadata", "tags", index), "string", tag))
        elif not (1 <= len(tag) <= 63 and TAG.match(tag)):
            problems.append(
                Problem(
                    "field-format:tags",
                    f'tag "{tag}" is not valid: expected lower-case letters, digits and ":+#" '
                    "separated by '-', at most 63 characters",
                    ("metadata", "tags", index),
                    f'e.g. "{suggest_label(tag)}"',
                )
            )
    return problems


def _check_links(links: Any) -> list[Problem]:
    if links is None:
        return []
    if not isinstance(links, list):
        return [wrong_type(("metadata", "links"), "array", links)]
    problems = []
    for index, link in enumerate(links):
        path: Path = ("metadata", "links", index)
        if not isinstance(link, dict):
            problems.append(
                wrong_type(path, "object", link, 'e.g. "- url: https://...\n  title: Docs"')
            )
            continue
        url = link.get("url")
        if url is None:
            problems.append(missing(path, "url", "every link needs an absolute url"))
        elif not isinstance(url, str) or not _is_url(url):
            problems.append(
                Problem(
                    "field-format:links.url",
                    f'link url "{url}" is not an absolute URL',
                    (*path, "url"),
                    "write the full address, e.g. https://wiki.example.com/payments",
                )
            )
        for key in ("title", "icon", "type"):
            value = link.get(key)
            if value is not None and (not isinstance(value, str) or (key == "title" and not value)):
                problems.append(wrong_type((*path, key), "string", value))
    return problems


def _is_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", parts.scheme or ""):
        return False
    return bool(parts.netloc) or parts.scheme in ("mailto", "urn", "tel", "data", "file")


def get_path(entity: Mapping[str, Any], path: Path) -> Any:
    value: Any = entity
    for part in path:
        if isinstance(part, int):
            if not isinstance(value, list) or part >= len(value):
                return None
            value = value[part]
        else:
            if not isinstance(value, dict):
                return None
            value = value.get(part)
    return value
