"""``python -m adalib.pipeline [--in-place] [--debug]``: see ``adalib.pipeline.run``."""

import sys

from adalib.pipeline.run import main
from adalib.util.cli import run_command

if __name__ == "__main__":
    sys.exit(run_command(main))
