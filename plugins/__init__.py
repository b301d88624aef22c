"""candle's built-in plugins (import name ``candle_plugins``): backends, search, evaluators, comm."""
