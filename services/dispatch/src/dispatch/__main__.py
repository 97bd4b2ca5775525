"""`python -m dispatch [serve|migrate]`"""

from fixflow_shared.cli import run_service
from dispatch.config import DispatchSettings


def main() -> None:
    run_service("dispatch", DispatchSettings)


if __name__ == "__main__":
    main()
