"""Import of people and households from spreadsheet ledgers (人口台账).

headers.py knows the column names, reader.py turns files into rows, cells.py parses single
cells, validate.py turns rows into a plan with row-level errors, apply.py writes a plan in bulk,
service.py runs upload → preview → confirm, template.py builds the downloadable template.
"""
