"""Communicators: MPI's own allreduce (the baseline) and candle's ring allreduce on mpi4py."""
