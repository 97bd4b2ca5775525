"""`python -m billing [serve|migrate]`"""

from fixflow_shared.cli import run_service
from billing.config import BillingSettings


def main() -> None:
    run_service("billing", BillingSettings)


if __name__ == "__main__":
    main()
