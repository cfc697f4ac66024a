"""The daemon (``backup watch``): it notices new files in the source folders, records and stamps
them, backs important folders up at once and runs the scheduled backups.

The stages are small modules: ``filters`` (which paths count), ``watcher`` (watchdog events,
filtered and handed on), ``settle`` (a file is ready once its write has finished), ``queue``
(pending work on disk), ``pipeline`` (record -> stamp -> real-time backup), ``schedule`` (when
the weekly and monthly runs are due), ``daemon`` (the threads, started and joined), and what
the creator reads: ``status`` and ``check``.
"""
