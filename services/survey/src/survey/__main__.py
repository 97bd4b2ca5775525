"""`python -m survey [serve|migrate]`"""

from fixflow_shared.cli import run_service
from survey.config import SurveySettings


def main() -> None:
    run_service("survey", SurveySettings)


if __name__ == "__main__":
    main()
