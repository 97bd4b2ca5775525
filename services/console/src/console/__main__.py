"""`python -m console [serve|migrate|await-migrations|healthcheck]`: the commands of every web
application's image (fixflow_shared.web.cli). The console owns no database."""

from __future__ import annotations

from console.config import ConsoleSettings
from fixflow_shared.web.cli import run_web_app


def main(argv: list[str] | None = None) -> None:
    run_web_app("console", ConsoleSettings, argv)


if __name__ == "__main__":
    main()
