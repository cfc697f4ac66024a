"""The inventory's storage: SQLite schemas and the typed methods that are the only SQL in Keepmark."""
