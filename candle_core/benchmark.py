"""The ``Benchmark`` base class, compatible with CANDLE's (``finalize_parameters`` is in ``compat``).

A CANDLE-compliant script subclasses it as before (see ``compat`` for the port).
A benchmark shipped as a candle plugin returns such objects from the ``candle_benchmarks``
hook, and overrides ``run`` (a self-contained training procedure) or ``load_data`` and
``build_model`` (the standard path through a backend).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from candle_core.errors import CandleError
from candle_core.parameters.config_file import read_config_file

if TYPE_CHECKING:
    from candle_core.run_context import RunContext

DEFAULT_MODEL_SUFFIX = "_default_model.txt"


class Benchmark:
    """A benchmark's parameter definitions, default model file and (optionally) its procedure.

    Subclasses may set the class attributes ``name``, ``description``,
    ``additional_definitions`` and ``required``, or set them in ``set_locals`` as CANDLE
    benchmarks do. Arguments given to the constructor win over both.
    """

    name: str = ""
    description: str = ""
    additional_definitions: Sequence[Mapping[str, Any]] = ()
    required: Iterable[str] = ()

    def __init__(
        self,
        filepath: str | Path,
        defmodel: str,
        framework: str | None = None,
        prog: str | None = None,
        desc: str | None = None,
        parser: Any = None,
        additional_definitions: Sequence[Mapping[str, Any]] | None = None,
        required: Iterable[str] | None = None,
    ) -> None:
        self.file_path = str(filepath)
        self.default_model = defmodel
        self.framework = framework
        self.prog = prog
        self.desc = desc or self.description
        self.parser = parser  # accepted for CANDLE compatibility; candle builds its own
        self.additional_definitions = list(
            additional_definitions if additional_definitions is not None else type(self).additional_definitions
        )
        self.required = set(required if required is not None else type(self).required)
        if not self.name:
            model_file = Path(defmodel).name
            self.name = (
                model_file.removesuffix(DEFAULT_MODEL_SUFFIX)
                if model_file.endswith(DEFAULT_MODEL_SUFFIX)
                else (prog or Path(defmodel).stem)
            )
        self.set_locals()

    def set_locals(self) -> None:
        """CANDLE's hook to set ``self.required`` and ``self.additional_definitions``."""

    @property
    def default_model_path(self) -> Path:
        return Path(self.file_path) / self.default_model

    @property
    def has_procedure(self) -> bool:
        """True if the benchmark trains itself (overrides ``run``)."""
        return type(self).run is not Benchmark.run

    # ----------------------------------------------------------------- procedure
    def run(self, params: Mapping[str, Any], context: RunContext) -> None:
        """Train and evaluate, reporting each epoch through ``context.end_epoch``.

        The default is the standard path: data hook, model hook, then a backend.
        """
        raise NotImplementedError

    def load_data(self, params: Mapping[str, Any]) -> Any:
        """Return the data set of a run (standard path), or None if the benchmark has none."""
        return None

    def input_shape(self, params: Mapping[str, Any]) -> tuple[int, ...] | None:
        """The shape of one sample, known without loading the data (for ``candle summary``)."""
        return None

    def build_model(self, params: Mapping[str, Any], input_shape: tuple[int, ...]) -> Any:
        """Return the backend-neutral ``ModelSpec`` (standard path), or None."""
        return None

    # ----------------------------------------------------------------- CANDLE compatibility
    def read_config_file(self, file: str | Path) -> dict[str, Any]:
        """Read a model file into a flat dict (first occurrence of a key wins), as CANDLE."""
        config = read_config_file(file)
        if config.problems:
            raise CandleError(*config.problems)
        return {entry.key: entry.value for entry in config.entries}

    def check_required_exists(self, gparam: Mapping[str, Any]) -> None:
        """Raise ``CandleError`` listing every required key missing from ``gparam``."""
        missing = sorted(set(self.required) - set(gparam))
        if missing:
            raise CandleError(f"benchmark {self.name} requires keys that are not set: {', '.join(missing)}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} ({self.default_model_path})>"
