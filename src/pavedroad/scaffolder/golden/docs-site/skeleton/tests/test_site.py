"""The site builds as TechDocs builds it, and every page of the nav is in it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[1]


def nav_pages(entries: list[Any]) -> list[str]:
    """The Markdown files a MkDocs nav names, at any depth; links to other sites are not pages."""
    pages: list[str] = []
    for entry in entries:
        target = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(target, list):
            pages.extend(nav_pages(target))
        elif isinstance(target, str) and not target.startswith(("http://", "https://")):
            pages.append(target)
    return pages


def test_the_site_builds_strictly_with_a_page_for_every_nav_entry(tmp_path: Path) -> None:
    site = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    for page in nav_pages(config["nav"]):
        html = "index.html" if page == "index.md" else page.removesuffix(".md") + "/index.html"
        assert (site / html).is_file(), f"{page} is in the nav but was not built"
    assert (site / "techdocs_metadata.json").is_file()
