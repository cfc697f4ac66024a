"""What tests share, written once: hashing (``kit.hashing``), hostile file names
(``kit.names``), what reposts do to a photo (``kit.transforms``), stand-ins for system tools
(``kit.tools``) and the README's commands (``kit.readme``)."""
