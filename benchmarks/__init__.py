"""candle's built-in benchmarks (import name ``candle_benchmarks``), one plugin package each."""
