"""`python -m billing [serve|migrate]`"""

from billing.config import BillingSettings
from fixflow_shared.cli import run_service


def main() -> None:
    run_service("billing", BillingSettings)


if __name__ == "__main__":
    main()
