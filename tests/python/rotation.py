"""bittensor 10.5.0's log file rotation, for tests/command_line.rs: the handler bittensor's
logging machine makes for `bittensor.log` (`_create_file_handler`), with its size limit and
backup count as bittensor sets them, then with the limit lowered to MAX_BYTES so that the
records below rotate it many times.

Usage: rotation.py DIR MAX_BYTES. Writes DIR/bittensor.log (and its rotations) and prints JSON:
bittensor's limit and count, the records written (each message; the handler adds "\\n"), and
every file left in DIR with its contents."""

import json
import logging
import os
import sys

import bittensor

directory, max_bytes = sys.argv[1], int(sys.argv[2])
handler = bittensor.logging._create_file_handler(os.path.join(directory, "bittensor.log"))
bittensors = {"max_bytes": handler.maxBytes, "backup_count": handler.backupCount}
handler.maxBytes = max_bytes
handler.setFormatter(logging.Formatter("%(message)s"))

# Lengths that land on, under and over the limit; one record longer than the limit.
messages = [f"record {i} " + "x" * (i * 7 % 53) for i in range(400)]
messages.insert(200, "y" * (max_bytes + 10))
for message in messages:
    handler.emit(logging.LogRecord("bittensor", logging.INFO, __file__, 0, message, None, None))
handler.close()

files = {}
for name in sorted(os.listdir(directory)):
    with open(os.path.join(directory, name)) as f:
        files[name] = f.read()
print(json.dumps({
    "bittensor_version": bittensor.__version__,
    "bittensor": bittensors,
    "messages": messages,
    "files": files,
}))
