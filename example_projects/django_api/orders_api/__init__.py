"""An example Django + DRF API protected by jwt-guard."""
