import sys

from fixflow_shared.deadletters.cli import main

sys.exit(main())
