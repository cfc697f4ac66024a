"""The stages a batch of files goes through, below the use cases: record (the scan,
``inventory.record.scan``), stamp (``stamp``) and back up (``backup.runs``). ``backup stamp``,
``backup demo`` and the daemon run the same stages over the files in hand, each file read and
decoded once."""
