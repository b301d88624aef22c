"""Data services shared by benchmarks: fetch and cache files, read CSV tables, scale and split."""
