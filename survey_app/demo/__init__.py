"""Demo data for the shipped instance."""
