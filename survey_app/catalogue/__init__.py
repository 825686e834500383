"""The catalogue of enti, services and questionnaires, kept as YAML and loaded into the database."""

from .errors import CatalogueError
from .loader import LoadReport, apply_questionnaire, load_catalogue, read_catalogue

__all__ = ["CatalogueError", "LoadReport", "apply_questionnaire", "load_catalogue", "read_catalogue"]
