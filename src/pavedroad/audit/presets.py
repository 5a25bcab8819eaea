"""The questions auditors ask most, by name: one link on the page, one ``--preset`` on the
command line, one ``preset=`` in the API.

They are the three queries of the platform guide (recent deployments by user, failed sign-ins,
production deployments), written as filters instead of SQL so that they run on SQLite and
PostgreSQL alike and combine with any other filter.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Preset:
    """A named set of filters and the metadata worth a column of its own in its answer."""

    name: str
    title: str
    description: str
    action: str | None = None
    since: str | None = None
    where: tuple[str, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()  # (heading, metadata key)


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "recent-deployments",
            "Recent deployments",
            "Every deployment triggered in the last 7 days, by whom, with its metadata.",
            action="deployment.trigger",
            since="7d",
        ),
        Preset(
            "failed-sign-ins",
            "Failed sign-ins",
            "Failed authentication in the last 24 hours, with the address and the reason.",
            action="auth.failed",
            since="24h",
            columns=(("IP address", "ip_address"), ("Reason", "reason")),
        ),
        Preset(
            "production-deployments",
            "Production deployments",
            "Every deployment to the production environment.",
            action="deployment.trigger",
            where=("details.environment=production",),
            columns=(("Environment", "environment"),),
        ),
    )
}
