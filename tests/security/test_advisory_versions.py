"""Versions order the way each ecosystem orders them, and ranges follow OSV's rules."""

from __future__ import annotations

import itertools

import pytest

from pavedroad.security.advisories.cvss import CvssError, base_score, rating
from pavedroad.security.advisories.ranges import RangeError, check_ranges, evaluate
from pavedroad.security.advisories.versions import (
    VersionError,
    normalise_package_name,
    parse_version,
)


@pytest.mark.parametrize(
    ("ecosystem", "ascending"),
    [
        ("PyPI", ["1.0.dev1", "1.0a1", "1.0rc1", "1.0", "1.0.post1", "1.1", "1.10"]),
        (
            "npm",
            [
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-beta",
                "1.0.0-rc.1",
                "1.0.0",
                "1.2.0",
                "1.10.0",
            ],
        ),
        ("Go", ["v0.9.9", "v1.0.0-rc1", "1.0.0", "v1.0.1"]),
        (
            "Maven",
            [
                "1.0-alpha-1",
                "1.0-beta",
                "1.0-rc1",
                "1.0-SNAPSHOT",
                "1.0",
                "1.0-sp1",
                "1.0.1",
                "1.10",
            ],
        ),
    ],
)
def test_versions_order_as_their_ecosystem_orders_them(
    ecosystem: str, ascending: list[str]
) -> None:
    parsed = [parse_version(ecosystem, version) for version in ascending]
    assert parsed == sorted(parsed)
    assert all(a < b for a, b in itertools.pairwise(parsed))


def test_maven_treats_release_aliases_and_trailing_zeros_as_the_same_version() -> None:
    assert parse_version("Maven", "2.17") == parse_version("Maven", "2.17.0")
    assert parse_version("Maven", "2.17.0-final") == parse_version("Maven", "2.17")
    assert parse_version("Maven", "2.0-cr1") == parse_version("Maven", "2.0-rc1")


def test_a_version_an_ecosystem_cannot_read_is_an_error_that_names_it() -> None:
    with pytest.raises(VersionError, match="not a PEP 440 version"):
        parse_version("PyPI", "not a version")
    with pytest.raises(VersionError, match="not a semantic version"):
        parse_version("npm", "1.x")
    with pytest.raises(VersionError, match="ecosystem 'Hackage' is not supported"):
        parse_version("Hackage", "1.0")


def test_package_names_are_normalised_per_ecosystem() -> None:
    assert normalise_package_name("PyPI", "Django_Rest.Framework") == "django-rest-framework"
    assert normalise_package_name("Maven", "org.apache.logging.log4j:Log4j-Core") == (
        "org.apache.logging.log4j:log4j-core"
    )
    assert (
        normalise_package_name("Go", "github.com/BurntSushi/toml") == "github.com/BurntSushi/toml"
    )


DJANGO = [  # as PYSEC-2019-13 writes it: the intervals out of order
    {
        "type": "ECOSYSTEM",
        "events": [
            {"introduced": "2.1"},
            {"fixed": "2.1.11"},
            {"introduced": "1.11"},
            {"fixed": "1.11.23"},
            {"introduced": "2.2"},
            {"fixed": "2.2.4"},
        ],
    }
]


@pytest.mark.parametrize(
    ("version", "affected", "fixed"),
    [
        ("1.10.8", False, None),
        ("1.11", True, "1.11.23"),
        ("1.11.22", True, "1.11.23"),
        ("1.11.23", False, None),
        ("2.0.13", False, None),
        ("2.2.0", True, "2.2.4"),
        ("2.2.4", False, None),
        ("3.0", False, None),
    ],
)
def test_intervals_are_read_in_version_order_whatever_order_they_are_written(
    version: str, affected: bool, fixed: str | None
) -> None:
    verdict = evaluate("PyPI", version, DJANGO)
    assert (verdict.affected, verdict.fixed) == (affected, fixed)


def test_last_affected_includes_that_version_and_has_no_fix() -> None:
    ranges = [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "1.4.0"}]}]
    assert evaluate("PyPI", "1.4.0", ranges).affected
    assert evaluate("PyPI", "1.4.0", ranges).fixed is None
    assert not evaluate("PyPI", "1.4.1", ranges).affected


def test_a_limit_bounds_the_range_from_above() -> None:
    ranges = [{"type": "SEMVER", "events": [{"introduced": "0"}, {"limit": "2.0.0"}]}]
    assert evaluate("npm", "1.9.9", ranges).affected
    assert not evaluate("npm", "2.0.0", ranges).affected


def test_semver_pre_releases_before_the_fix_are_affected() -> None:
    ranges = [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.2.0"}]}]
    assert evaluate("npm", "1.2.0-rc.1", ranges).affected
    assert not evaluate("npm", "1.2.0", ranges).affected


def test_explicit_versions_match_even_without_ranges_and_git_ranges_never_match() -> None:
    git = [{"type": "GIT", "repo": "https://x", "events": [{"introduced": "0"}]}]
    assert evaluate("PyPI", "0.9", git, ["0.9", "1.0"]).affected
    assert not evaluate("PyPI", "1.1", git, ["0.9", "1.0"]).affected
    assert evaluate("PyPI", "not-pep-440", [], ["not-pep-440"]).affected


def test_the_lowest_fix_of_several_ranges_is_the_upgrade() -> None:
    ranges = [
        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]},
        {"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"fixed": "1.5"}]},
    ]
    assert evaluate("PyPI", "1.2", ranges).fixed == "1.5"


@pytest.mark.parametrize(
    "ranges",
    [
        [{"type": "ECOSYSTEM", "events": []}],
        [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}],
        [{"type": "ECOSYSTEM", "events": [{"broken": "1.0"}]}],
        [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "one point two"}]}],
    ],
)
def test_a_malformed_range_is_refused(ranges: list[dict[str, object]]) -> None:
    with pytest.raises(RangeError):
        check_ranges("PyPI", ranges)


@pytest.mark.parametrize(
    ("vector", "score", "severity"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "critical"),  # Log4Shell
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "critical"),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 6.5, "medium"),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1, "low"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "medium"),  # reflected XSS
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5, "high"),  # CVSS v2
    ],
)
def test_cvss_base_scores_follow_the_specification(
    vector: str, score: float, severity: str
) -> None:
    assert base_score(vector) == score
    assert rating(score) == severity


def test_a_broken_vector_is_an_error() -> None:
    with pytest.raises(CvssError, match="AV"):
        base_score("CVSS:3.1/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
