"""Directory entries as Backstage entities: Users and Groups with their names, profiles,
memberships and group hierarchy, annotated the way Backstage's own LDAP provider does."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ldap3.core.exceptions import LDAPInvalidDnError
from ldap3.utils.dn import parse_dn

from pavedroad.config import LdapSettings
from pavedroad.identity.ldap.directory import Directory, LdapEntry

API_VERSION = "backstage.io/v1alpha1"
DN_ANNOTATION = "backstage.io/ldap-dn"
RDN_ANNOTATION = "backstage.io/ldap-rdn"
UUID_ANNOTATION = "backstage.io/ldap-uuid"
MAX_NAME_LENGTH = 63

# Letters that Unicode does not decompose into an ASCII letter and an accent.
_LETTERS = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "þ": "th"})
_NOT_NAME = re.compile(r"[^a-z0-9._-]+")
_ESCAPED = re.compile(rb"\\([0-9A-Fa-f]{2}|.)")
_UNIQUE_MEMBER_UID = re.compile(r"#'[01]*'B$")  # uniqueMember may end in an optional bit string


def entity_name(value: str) -> str:
    """``value`` as a valid Backstage name, or ``""`` when no letter or digit is left.

    Lower-cased; accents dropped (``Zoë`` → ``zoe``, ``ß`` → ``ss``); each run of characters other
    than letters, digits, ``.``, ``_`` and ``-`` becomes one ``-``; separators at either end
    removed; cut to 63 characters.
    """
    folded = unicodedata.normalize("NFKD", value.lower().translate(_LETTERS))
    name = _NOT_NAME.sub("-", folded.encode("ascii", "ignore").decode())
    name = re.sub(r"-{2,}", "-", name).strip("-_.")
    return name[:MAX_NAME_LENGTH].rstrip("-_.")


def dn_key(dn: str) -> str:
    """``dn`` spelled one way (case and spaces around separators ignored), to compare DNs."""
    try:
        parts = parse_dn(dn, strip=True)
    except LDAPInvalidDnError:
        return dn.strip().lower()
    return "".join(f"{kind.lower()}={value.lower()}{separator}" for kind, value, separator in parts)


def rdn_value(dn: str) -> str:
    """The value of the DN's first component (``alice`` in ``uid=alice,ou=people,...``)."""
    try:
        value: str = parse_dn(dn, strip=True)[0][1]
    except LDAPInvalidDnError:
        return dn
    return _ESCAPED.sub(_unescape_one, value.encode()).decode("utf-8", "replace")


def _unescape_one(match: re.Match[bytes]) -> bytes:
    escaped = match.group(1)
    return bytes.fromhex(escaped.decode()) if len(escaped) == 2 else escaped


@dataclass(slots=True)
class Snapshot:
    """The entities of one read, and how many entries or members had to be left out."""

    entities: list[dict[str, Any]] = field(default_factory=list)
    unknown_members: int = 0  # member DNs that are neither a user nor a group that was read
    unnamed: int = 0  # entries without a usable name attribute
    duplicates: int = 0  # entries whose name an entry of the same kind already has


@dataclass(frozen=True, slots=True)
class _Named:
    name: str
    entry: LdapEntry


@dataclass(slots=True)
class _Memberships:
    """Who is in which group, by DN key: users' groups, groups' children and parents (names)."""

    groups_of_user: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    children: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    parents: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def build_snapshot(directory: Directory, settings: LdapSettings) -> Snapshot:
    """The User and Group entities for everything ``directory`` holds."""
    snapshot = Snapshot()
    users = _named(directory.users, settings.user_name_attribute, snapshot)
    groups = _named(directory.groups, settings.group_name_attribute, snapshot)
    memberships = _memberships(users, groups, settings.group_member_attribute, snapshot)
    snapshot.entities = [
        *(_user(key, user, memberships, settings) for key, user in users.items()),
        *(_group(key, group, memberships, settings) for key, group in groups.items()),
    ]
    return snapshot


def _named(entries: list[LdapEntry], attribute: str, snapshot: Snapshot) -> dict[str, _Named]:
    """Entries by DN key with their entity names; of two with one name, the first DN wins."""
    named: dict[str, _Named] = {}
    taken: set[str] = set()
    for entry in sorted(entries, key=lambda e: dn_key(e.dn)):
        name = entity_name(entry.text(attribute) or "")
        if not name:
            snapshot.unnamed += 1
        elif name in taken:
            snapshot.duplicates += 1
        else:
            taken.add(name)
            named[dn_key(entry.dn)] = _Named(name, entry)
    return named


def _memberships(
    users: dict[str, _Named], groups: dict[str, _Named], attribute: str, snapshot: Snapshot
) -> _Memberships:
    found = _Memberships()
    for key, group in groups.items():
        for member in group.entry.texts(attribute):
            member_key = dn_key(_UNIQUE_MEMBER_UID.sub("", member))
            if member_key in users:
                found.groups_of_user[member_key].add(group.name)
            elif member_key in groups:
                if member_key != key:  # a group that lists itself says nothing about hierarchy
                    found.children[key].add(groups[member_key].name)
                    found.parents[member_key].add(group.name)
            else:
                snapshot.unknown_members += 1
    return found


def _user(
    key: str, user: _Named, memberships: _Memberships, settings: LdapSettings
) -> dict[str, Any]:
    entry = user.entry
    profile = {
        "displayName": entry.text(settings.user_display_name_attribute),
        "email": entry.text(settings.user_email_attribute),
    }
    spec = {
        "profile": {k: v for k, v in profile.items() if v},
        "memberOf": _refs(memberships.groups_of_user[key], settings),
    }
    return _entity("User", user, settings, spec)


def _group(
    key: str, group: _Named, memberships: _Memberships, settings: LdapSettings
) -> dict[str, Any]:
    entry = group.entry
    display_name = entry.text(settings.group_display_name_attribute)
    spec: dict[str, Any] = {
        "type": settings.group_type,
        "profile": {"displayName": display_name} if display_name else {},
        "children": _refs(memberships.children[key], settings),
    }
    parents = memberships.parents[key]
    # A group in several groups has no single parent; each of them lists it among its children.
    if len(parents) == 1:
        [spec["parent"]] = _refs(parents, settings)
    entity = _entity("Group", group, settings, spec)
    description = entry.text(settings.group_description_attribute)
    if description:
        entity["metadata"]["description"] = description
    return entity


def _refs(names: set[str], settings: LdapSettings) -> list[str]:
    return [f"group:{settings.namespace}/{name}" for name in sorted(names)]


def _entity(
    kind: str, named: _Named, settings: LdapSettings, spec: dict[str, Any]
) -> dict[str, Any]:
    entry = named.entry
    annotations = {DN_ANNOTATION: entry.dn, RDN_ANNOTATION: rdn_value(entry.dn)}
    entry_uuid = entry.uuid()
    if entry_uuid:
        annotations[UUID_ANNOTATION] = entry_uuid
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": {
            "name": named.name,
            "namespace": settings.namespace,
            "annotations": annotations,
        },
        "spec": spec,
    }
