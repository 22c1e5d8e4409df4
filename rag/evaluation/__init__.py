"""Retrieval evaluation: labelled datasets (``rag.evaluation.datasets``) and, later, the runner.

Kept import-free on purpose: importing the package must not pull in ranx, numba or the models.
"""
