"""Survey firms' data: templates, reading any Italian spreadsheet, checking every row, exactly-once batches.

The CLI (`flask responses …`) calls ``load.import_file``; the web upload and the API are to call the same function.
"""
