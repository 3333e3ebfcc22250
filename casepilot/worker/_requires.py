"""Imported first by ``casepilot.worker``: without the ``postgres`` extra, one clear line instead of a traceback."""

from casepilot._extras import require

require("postgres", "the worker queue (casepilot worker, serve --workers)")
