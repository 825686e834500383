"""Indicators, charts and exports on pandas, plotly and openpyxl. Never imports Flask.

The database is read through SQLAlchemy Core on lightweight table descriptions
(``analysis.tables``), so the numbers have one source whether the caller is the
dashboard, the CLI or an export.
"""

from .indicators import QUESTION_COLUMNS, question_table
from .queries import load_question_counts

__all__ = ["QUESTION_COLUMNS", "load_question_counts", "question_table"]
