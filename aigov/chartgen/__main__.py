"""`python -m aigov.chartgen`: regenerate the chart files (see `aigov.chartgen`)."""

import sys

from aigov.chartgen import main

sys.exit(main())
