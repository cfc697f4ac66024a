"""The ledger and what proves it: the hash chain, signed checkpoints, RFC 3161 timestamps, publications."""
