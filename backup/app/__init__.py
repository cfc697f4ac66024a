"""Use cases: one function per thing a creator does, each taking a profile and plain arguments and
returning a result value that the CLI prints and the browser app renders."""
