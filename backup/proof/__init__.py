"""Proof of ownership: signed ledger checkpoints with trusted timestamps (``store``),
publications, and the evidence bundle ``backup prove`` writes and re-checks (``bundle``,
``verify``)."""
