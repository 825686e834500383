"""Kiosk routes (to be written)."""
