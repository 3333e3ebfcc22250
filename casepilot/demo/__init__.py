"""The flagship example's domain tools and runner (``casepilot demo``)."""
