"""`python -m tools.bench`: see the package's docstring."""

import sys

from tools.bench.run import main

sys.exit(main())
