"""`python -m dispatch [serve|migrate]`"""

from dispatch.config import DispatchSettings
from fixflow_shared.cli import run_service


def main() -> None:
    run_service("dispatch", DispatchSettings)


if __name__ == "__main__":
    main()
