"""The JSON HTTP service over the orchestrator (FastAPI): definitions, cases, inbox, history.

The only package that imports FastAPI. Build an app with ``create_app(orchestrator)`` or
``app_from_settings(ApiSettings(...))``; ``casepilot serve`` runs the latter under uvicorn.
"""

from casepilot.api.app import app_from_settings, create_app
from casepilot.api.settings import ApiSettings

__all__ = ["ApiSettings", "app_from_settings", "create_app"]
