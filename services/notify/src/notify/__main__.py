"""`python -m notify [serve|migrate]`"""

from fixflow_shared.cli import run_service
from notify.config import NotifySettings


def main() -> None:
    run_service("notify", NotifySettings)


if __name__ == "__main__":
    main()
