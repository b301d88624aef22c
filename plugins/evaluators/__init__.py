"""Evaluators: where a search's trials run (local processes, MPI ranks)."""
