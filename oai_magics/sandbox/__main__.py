"""`python -m oai_magics.sandbox`: run the sandbox until SIGINT or SIGTERM."""

import sys

from .server import main

sys.exit(main())
