"""Importers: public intent data sets and Rasa NLU files as Tidal `Example`s.

Each importer reads one source format and reports problems as `FilesInvalid` with
`path:line: [code] what`; `tidal_yaml.write_examples` writes the result in Tidal's own
format (`training/data/README.md`).
"""
