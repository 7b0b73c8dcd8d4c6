"""`python -m devkit.chartgen`: regenerate the chart files (see `devkit.chartgen`)."""

import sys

from devkit.chartgen import main

sys.exit(main())
