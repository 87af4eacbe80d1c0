"""`python -m mosaicstack_telemetry`: the `mosaic-telemetry` command line."""

import sys

from mosaicstack_telemetry.cli import main

if __name__ == "__main__":
    sys.exit(main())
