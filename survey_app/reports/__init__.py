"""Reports over the analysis package."""
