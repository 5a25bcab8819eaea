"""The sidebar: a registry that each capability adds its pages to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NavItem:
    title: str
    href: str
    icon: str
    order: int
    section: str = "Portal"
    available: bool = True  # False: shown as "soon" until its capability exists


_ITEMS: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    """Add (or replace, by href) a sidebar entry."""
    _ITEMS[item.href] = item


def items() -> list[NavItem]:
    return sorted(_ITEMS.values(), key=lambda item: (item.order, item.title))


def sections() -> list[tuple[str, list[NavItem]]]:
    grouped: dict[str, list[NavItem]] = {}
    for item in items():
        grouped.setdefault(item.section, []).append(item)
    return list(grouped.items())


# Capabilities on the roadmap announce their place now; they turn available when they land.
for _item in (
    NavItem("Home", "/", "⌂", 0),
    NavItem("Create", "/create", "+", 20, available=False),
    NavItem("Docs", "/docs", "☰", 40, available=False),
    NavItem("Scorecards", "/scorecards", "◎", 50, available=False),
    NavItem("Deployments", "/deployments", "⇪", 60, available=False),
    NavItem("Audit", "/audit", "⌕", 70, section="Administration", available=False),
    NavItem("Settings", "/settings", "⚙", 80, section="Administration", available=False),
):
    register(_item)
