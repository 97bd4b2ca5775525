"""`python -m intake [serve|migrate]`"""

from fixflow_shared.cli import run_service
from intake.config import IntakeSettings


def main() -> None:
    run_service("intake", IntakeSettings)


if __name__ == "__main__":
    main()
