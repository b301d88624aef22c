"""Run under ``mpiexec -n P``: data-parallel NT3 through candle's training loop. Each rank prints
'weights RANK SHA256' of its final weights; rank 0 writes the run directory as usual.

Usage: data_parallel_checks.py BACKEND COMM OUTPUT_DIR [candle flags...]
"""

import hashlib
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from helpers import resolve  # noqa: E402

from candle_core.data_parallel import open_data_parallel  # noqa: E402
from candle_core.plugin_manager import get_plugin_manager  # noqa: E402
from candle_core.run import build_model_spec
from candle_core.run_context import RunContext  # noqa: E402
from candle_core.training import fit  # noqa: E402

backend_name, comm, output_dir, *flags = sys.argv[1:]
manager = get_plugin_manager()
benchmark = manager.benchmark("nt3")
params = resolve("nt3", [*flags, "--backend", backend_name, "--comm", comm, "--output_dir", output_dir])
parallel = open_data_parallel(params, manager)
backend_class = type(manager.component("backend", backend_name)())


class Recording(backend_class):
    """The backend, keeping the model it builds so that its final weights can be compared."""

    def build(self, *args, **kwargs):
        self.model = super().build(*args, **kwargs)
        return self.model


backend = Recording()
dataset = manager.hook.candle_load_data(benchmark=benchmark, params=params)
spec = build_model_spec(benchmark, params, dataset.input_shape, manager.hook)
context = RunContext(params, Path(params["run_dir"]), manager.hook, writes=parallel.is_root)
context.finish(fit(backend, spec, dataset, params, context, parallel))
digest = hashlib.sha256(b"".join(w.tobytes() for w in backend.get_weights(backend.model))).hexdigest()
os.write(1, f"weights {parallel.rank} {digest}\n".encode())  # one write: lines from ranks stay whole
