"""Flask adapter for jwt-guard (see the Flask adapter issue)."""
