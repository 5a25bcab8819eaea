"""``python -m ${{ values.package }}``: serve the application with Uvicorn."""

from __future__ import annotations

import uvicorn

from ${{ values.package }}.app import create_app
from ${{ values.package }}.config import Settings
from ${{ values.package }}.logs import configure_logging


def main() -> None:
    settings = Settings.from_environment()
    configure_logging(settings.log_level)
    # The middleware writes the access log (with request and trace ids); log_config=None keeps
    # Uvicorn from replacing the JSON logging.
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_config=None,
    )


if __name__ == "__main__":
    main()
