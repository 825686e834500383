"""Staff downloads of QR posters (to be written)."""
