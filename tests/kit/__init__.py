"""What tests share, written once: hashing (``kit.hashing``), hostile file names
(``kit.names``), what reposts do to a photo (``kit.transforms``) and stand-ins for system tools
(``kit.tools``)."""
