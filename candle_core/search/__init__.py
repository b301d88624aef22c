"""Hyperparameter search: spaces, trials, the results store, the driver."""
