"""Importers turning external knowledge-base formats into Allô fiche dicts (see `allo/kb/demo/README.md`).

Pure Python: no Django import, so the parsers can be tested and reused without a configured project.
"""
