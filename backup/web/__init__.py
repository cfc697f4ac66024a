"""``backup ui``: Keepmark in the browser. A small server-rendered app (Starlette, Jinja2,
uvicorn) on 127.0.0.1 that calls the same use cases the CLI calls (``backup.app``) and renders
the same result values; its JSON API answers with the documents the CLI's ``--json`` prints.

Nothing here is imported by the other commands: the web libraries load only when the app runs.
"""
