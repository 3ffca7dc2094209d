"""The logging configuration of the real bittensor, for tests/command_line.rs: every
`--logging.*` flag its parser takes (and whether it takes a value), what `BT_LOGGING_TRACE=0`
and an empty `BT_LOGGING_RECORD_LOG` turn into, and the default directory and file name.
It also has a fresh interpreter, with no `BT_LOGGING_*` variable, log one info and one
warning line (bittensor logs to stdout), so the test sees which level shows by default.
Prints `RESULT ` and JSON."""

import argparse
import json
import os
import subprocess
import sys

os.environ["BT_LOGGING_TRACE"] = "0"
os.environ["BT_LOGGING_RECORD_LOG"] = ""
os.environ.pop("BT_LOGGING_LOGGING_DIR", None)

import bittensor as bt  # noqa: E402
from bittensor.core import settings  # noqa: E402
from bittensor.utils.btlogging import defines  # noqa: E402

parser = argparse.ArgumentParser()
bt.logging.add_args(parser)
flags = {}
for action in parser._actions:
    for option in action.option_strings:
        if option.startswith("--logging."):
            flags[option] = action.nargs != 0

DEFAULT = """
import time, bittensor as bt
bt.logging.info("MARK info line")
bt.logging.warning("MARK warning line")
time.sleep(0.5)  # the logger writes from a queue listener thread
"""
clean = {k: v for k, v in os.environ.items() if not k.startswith("BT_LOGGING_")}
shown = subprocess.run(
    [sys.executable, "-c", DEFAULT], env=clean, capture_output=True, text=True, check=True
).stdout
print(
    "RESULT "
    + json.dumps(
        {
            "bittensor_version": bt.__version__,
            "flags": flags,
            "trace_from_zero": settings.DEFAULTS.logging.trace,
            "record_log_from_empty": settings.DEFAULTS.logging.record_log,
            "logging_dir": settings.DEFAULTS.logging.logging_dir,
            "home": os.path.expanduser("~"),
            "file_name": defines.DEFAULT_LOG_FILE_NAME,
            "default_shows_info": "MARK info line" in shown,
            "default_shows_warning": "MARK warning line" in shown,
        }
    )
)
