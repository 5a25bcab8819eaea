"""CVSS base scores from vectors (v3.0/v3.1 and v2), and the severity they rate.

Advisories carry a vector (``CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H``) more often than
a score; the score and its rating are computed here from the specifications' formulas.
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, Decimal

SEVERITIES = ("none", "low", "medium", "high", "critical")

_V3 = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_V3_PRIVILEGES = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}
_V2 = {
    "AV": {"L": 0.395, "A": 0.646, "N": 1.0},
    "AC": {"H": 0.35, "M": 0.61, "L": 0.71},
    "Au": {"M": 0.45, "S": 0.56, "N": 0.704},
    "C": {"N": 0.0, "P": 0.275, "C": 0.660},
    "I": {"N": 0.0, "P": 0.275, "C": 0.660},
    "A": {"N": 0.0, "P": 0.275, "C": 0.660},
}


class CvssError(ValueError):
    """A vector that is not a valid CVSS v2 or v3 base vector."""


def base_score(vector: str) -> float:
    """The base score (0.0 to 10.0) of a CVSS v3.x or v2 vector."""
    metrics = _metrics(vector)
    if vector.startswith("CVSS:3."):
        return _v3_score(metrics, vector)
    if vector.startswith("CVSS:"):
        raise CvssError(f"{vector!r}: only CVSS v2 and v3 vectors are scored")
    return _v2_score(metrics, vector)


def rating(score: float) -> str:
    """The qualitative severity of a v3 score: none, low, medium, high or critical."""
    if score == 0:
        return "none"
    if score < 4:
        return "low"
    if score < 7:
        return "medium"
    if score < 9:
        return "high"
    return "critical"


def _metrics(vector: str) -> dict[str, str]:
    parts = vector.strip().split("/")
    if parts and parts[0].startswith("CVSS:"):
        parts = parts[1:]
    metrics = {}
    for part in parts:
        name, colon, value = part.partition(":")
        if not colon:
            raise CvssError(f"{vector!r}: {part!r} is not METRIC:VALUE")
        metrics[name] = value
    return metrics


def _pick(table: dict[str, dict[str, float]], metrics: dict[str, str], vector: str) -> list[float]:
    try:
        return [table[name][metrics[name]] for name in table]
    except KeyError as missing:
        raise CvssError(
            f"{vector!r}: metric {missing} is missing or has an unknown value"
        ) from None


def _roundup(value: float) -> float:
    """CVSS v3's Roundup: the smallest number with one decimal that is >= value."""
    return float(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_CEILING))


def _v3_score(metrics: dict[str, str], vector: str) -> float:
    attack_vector, complexity, interaction, conf, integ, avail = _pick(_V3, metrics, vector)
    scope = metrics.get("S")
    if scope not in _V3_PRIVILEGES or metrics.get("PR") not in _V3_PRIVILEGES[scope]:
        raise CvssError(f"{vector!r}: S or PR is missing or has an unknown value")
    privileges = _V3_PRIVILEGES[scope][metrics["PR"]]
    impact_base = 1 - (1 - conf) * (1 - integ) * (1 - avail)
    if scope == "U":
        impact = 6.42 * impact_base
    else:
        impact = 7.52 * (impact_base - 0.029) - 3.25 * math.pow(impact_base - 0.02, 15)
    exploitability = 8.22 * attack_vector * complexity * privileges * interaction
    if impact <= 0:
        return 0.0
    if scope == "U":
        return _roundup(min(impact + exploitability, 10))
    return _roundup(min(1.08 * (impact + exploitability), 10))


def _v2_score(metrics: dict[str, str], vector: str) -> float:
    access, complexity, authentication, conf, integ, avail = _pick(_V2, metrics, vector)
    impact = 10.41 * (1 - (1 - conf) * (1 - integ) * (1 - avail))
    exploitability = 20 * access * complexity * authentication
    factor = 0 if impact == 0 else 1.176
    return round((0.6 * impact + 0.4 * exploitability - 1.5) * factor, 1)
