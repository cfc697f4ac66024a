"""What tests share, written once: media makers (``kit.media``: photos, HEIC, videos of made-up
scenes; ``kit.photos``: real photographs split into enrolled and never-enrolled; ``kit.videos``:
pans and cuts across them), hashing (``kit.hashing``), hostile file names (``kit.names``), what
reposts do to a photo (``kit.transforms``), stand-ins for system tools (``kit.tools``) and the
README's commands (``kit.readme``); real servers on loopback, each a pytest plugin named in
``tests/conftest.py``: S3 (``kit.s3``, moto's server), rclone remotes (``kit.rclone``, ``rclone
serve``) and a timestamp authority (``kit.tsa``); free ports and waiting for a server to answer
(``kit.ports``), and a proxy that injects faults (``kit.faultproxy``)."""
