"""``python -m emoscope.cli ...`` (and ``torchrun ... -m emoscope.cli train ...``)."""

import sys

from emoscope.cli.main import main

sys.exit(main())
