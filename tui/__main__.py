import sys

from .cli import main

code = main()
# The process ends here: nothing it made needs collecting. Freezing spares the
# interpreter's collections at exit a walk over every object (imported modules,
# 10,000 keys' worth of rows), a few milliseconds of a `check` run.
import gc  # noqa: E402

gc.freeze()
sys.exit(code)
