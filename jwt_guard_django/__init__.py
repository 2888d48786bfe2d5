"""Django and DRF adapter for jwt-guard (see the Django adapter issue)."""
