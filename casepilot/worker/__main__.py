"""``python -m casepilot.worker --db postgresql+psycopg://…``: ``casepilot worker`` with a lighter start
(only what working cases needs is imported), for process managers that restart workers often."""

from casepilot.worker.cli import main

main()
