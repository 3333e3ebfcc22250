"""Imported first by ``casepilot.rag``: without the ``rag`` extra, one clear line instead of a traceback."""

from casepilot._extras import require

require("rag", "retrieval")
