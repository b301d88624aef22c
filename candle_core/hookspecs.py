"""Every hook of candle, in one file: the whole extension surface.

A plugin is any module or object with functions marked ``@candle_core.hookimpl`` whose
names are the hooks below. Built-in plugins and third-party ones are registered the same
way, through the entry-point group ``candle`` (see pyproject.toml). The plugin manager
(``candle_core.plugin_manager``) checks every implementation against these specs.

Hooks come in three kinds:

* *collecting* hooks (no ``firstresult``): every plugin may answer; the caller gets a list
  of the non-None answers, in plugin call order (``tryfirst``/``trylast`` change it);
* *first-result* hooks (``firstresult=True``): plugins are asked in order and the first
  non-None answer wins; return None to say "not mine";
* *notification* hooks: called for their side effects; return values are ignored.

Families that name things (benchmarks, backends, search algorithms, evaluators,
communicators, container runtimes, commands) answer with mappings ``{name: factory}``; a
factory is a zero-argument callable, so that a framework (torch, tensorflow, mpi4py) is
imported only when its component is really used, never while plugins are being listed. What
each factory gives is typed against ``candle_core.contracts``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from candle_core.benchmark import Benchmark
    from candle_core.contracts import Backend, Command, Communicator, Evaluator, Runtime, SearchAlgorithm
    from candle_core.parameters.registry import KeywordRegistry

hookspec = pluggy.HookspecMarker("candle")
hookimpl = pluggy.HookimplMarker("candle")

BackendFactory = Callable[[], "Backend"]  # an instance
SearchFactory = Callable[[], "type[SearchAlgorithm]"]  # a class: (space, objective, seed, budget, workers, options)
EvaluatorFactory = Callable[[], "Callable[..., Evaluator]"]  # a class or function: (workers, settings, ...)
CommunicatorFactory = Callable[[], "Communicator"]  # an instance, for this process's rank
RuntimeFactory = Callable[[], "Runtime"]  # an instance
CommandFactory = Callable[[], "Command"]  # an instance


# --------------------------------------------------------------------------- parameters
@hookspec
def candle_add_parameters(registry: KeywordRegistry) -> None:
    """Add keyword definitions that every benchmark accepts.

    Called by: ``candle_core.parameters.registry.build_registry``, each time parameters
    are resolved for a benchmark (``candle run``, ``candle params``, a search trial,
    ``finalize_parameters``), before any configuration file is read.

    :param registry: call ``registry.add(definitions, origin="my plugin")`` with a list of
        CANDLE-style definition dicts (keys ``name, abv, type, default, help, action,
        choices, nargs``). The benchmark's own ``additional_definitions`` are added after
        all plugins and so may redefine a keyword.
    :return: nothing.
    """


# --------------------------------------------------------------------------- benchmarks
@hookspec
def candle_benchmarks() -> Sequence[Benchmark]:
    """Name the benchmarks this plugin provides.

    Called by: the plugin manager when a benchmark is looked up by name (``candle run``,
    ``candle params``, ``candle list``, searches). Must be cheap: build ``Benchmark``
    objects, do not read data or import a framework.

    :return: a list of ``candle_core.Benchmark`` instances; their ``name`` must be unique
        across all plugins.
    """


# --------------------------------------------------------------------------- data
@hookspec(firstresult=True)
def candle_load_data(benchmark: Benchmark, params: Mapping[str, Any]) -> Any:
    """Load (fetch, cache, parse, scale, split) the data set of a run.

    Called by: the run lifecycle (``candle_core.run``) once per run, after the run
    directory exists and before the model is built.

    The core answers last by calling ``benchmark.load_data(params)``; a plugin answers
    first to substitute another source (say, a site-local copy of the data).

    :param benchmark: the benchmark being run.
    :param params: the resolved parameters (read-only).
    :return: a ``candle_core.data.dataset.Dataset``, or None.
    """


# --------------------------------------------------------------------------- model
@hookspec(firstresult=True)
def candle_build_model(benchmark: Benchmark, params: Mapping[str, Any], input_shape: tuple[int, ...]) -> Any:
    """Describe the model of a run, independently of any framework.

    Called by: the run lifecycle once per run, after ``candle_load_data`` (``input_shape`` is
    the data's sample shape), and by ``candle summary`` (with ``benchmark.input_shape``). The
    chosen backend then realizes the description in its framework.

    The core answers last by calling ``benchmark.build_model(params, input_shape)``.

    :return: a ``candle_core.model.ModelSpec``, or None.
    """


# --------------------------------------------------------------------------- backends
@hookspec
def candle_backends() -> Mapping[str, BackendFactory]:
    """Name the training backends this plugin provides (``--backend NAME``).

    Called by: the plugin manager when a backend is looked up or plugins are listed.

    :return: ``{name: factory}``; ``factory()`` imports the framework and returns a
        ``contracts.Backend``: builds, trains an epoch, predicts, saves and loads models.
    """


# --------------------------------------------------------------------------- search
@hookspec
def candle_search_algorithms() -> Mapping[str, SearchFactory]:
    """Name the hyperparameter-search algorithms this plugin provides.

    Called by: ``candle search`` when it looks up ``--algorithm NAME``, and by listings.

    :return: ``{name: factory}``; ``factory()`` returns a ``contracts.SearchAlgorithm``
        subclass, built as ``cls(space, objective, seed, budget, workers, options)``: ``ask(n)``
        gives parameter sets (or ``Proposal``s), ``tell(trial)`` reports a finished trial.
    """


# --------------------------------------------------------------------------- evaluators
@hookspec
def candle_evaluators() -> Mapping[str, EvaluatorFactory]:
    """Name the evaluators this plugin provides (where trials run: local processes, MPI ranks,
    Slurm job steps).

    Called by: ``candle search``, ``candle upf`` and ``candle uq`` when they look up
    ``--evaluator NAME``.

    :return: ``{name: factory}``; ``factory()`` returns a ``contracts.Evaluator`` subclass:
        ``submit(task)``, ``completed(timeout)``, ``shutdown()`` and ``workers`` (trials at once, read by
        the driver before it starts trials: it may shrink when nodes are lost).
    """


# --------------------------------------------------------------------------- communication
@hookspec
def candle_communicators() -> Mapping[str, CommunicatorFactory]:
    """Name the communicators this plugin provides (``--comm NAME``).

    Called by: data-parallel training and the launcher of sub-jobs.

    :return: ``{name: factory}``; ``factory()`` returns this rank's ``contracts.Communicator``:
        ``rank``, ``size``, ``allreduce``, ``broadcast``, ``barrier``, ``use_device`` and
        ``launch``.
    """


# --------------------------------------------------------------------------- containers
@hookspec
def candle_container_runtimes() -> Mapping[str, RuntimeFactory]:
    """Name the container runtimes this plugin can build and run images with.

    Called by: ``candle container build`` and ``candle container exec``.

    :return: ``{name: factory}``; ``factory()`` returns a ``contracts.Runtime``:
        ``available()``, ``build(context, recipe, tag)`` and ``exec_command(image, command,
        binds, env, workdir, gpu)`` (the command line that runs inside the image).
    """


# --------------------------------------------------------------------------- commands
@hookspec
def candle_commands() -> Mapping[str, CommandFactory]:
    """Name extra ``candle`` sub-commands (``candle container`` comes this way).

    Called by: ``candle_core.cli_parser.build_parser`` each time the command line is parsed,
    so factories must be cheap (import their machinery in ``run``).

    :return: ``{name: factory}``; ``factory()`` returns a ``contracts.Command``: ``help``,
        ``add_options(parser)`` and ``run(args, rest)`` -> exit status.
    """


# --------------------------------------------------------------------------- run lifecycle
@hookspec
def candle_run_start(benchmark: Benchmark, params: Mapping[str, Any], run_dir: Path) -> None:
    """Observe the start of a run.

    Called by: the run lifecycle once per run, after the final parameters were written to
    ``run_dir`` and before data are loaded.
    """


@hookspec
def candle_epoch_end(params: Mapping[str, Any], epoch: int, metrics: Mapping[str, float]) -> None:
    """Observe the end of a training epoch.

    Called by: the run's ``RunContext.end_epoch`` after the epoch's metrics were appended
    to the run's history files. ``epoch`` counts from 1.
    """


@hookspec
def candle_run_end(benchmark: Benchmark, params: Mapping[str, Any], run_dir: Path, results: Mapping[str, Any]) -> None:
    """Observe the end of a run.

    Called by: the run lifecycle once per run, after ``results.json`` was written, whether
    the run finished its epochs, stopped early or hit its ``timeout``.
    """


# Which family each hook belongs to, for ``candle plugins``. The naming hooks are those
# whose answer is a mapping (or, for benchmarks, a list) of named components.
HOOK_FAMILIES: dict[str, str] = {
    "candle_add_parameters": "parameters",
    "candle_benchmarks": "benchmark",
    "candle_load_data": "data",
    "candle_build_model": "model",
    "candle_backends": "backend",
    "candle_search_algorithms": "search",
    "candle_evaluators": "evaluator",
    "candle_communicators": "comm",
    "candle_container_runtimes": "container",
    "candle_commands": "command",
    "candle_run_start": "lifecycle",
    "candle_epoch_end": "lifecycle",
    "candle_run_end": "lifecycle",
}

NAMING_HOOKS: dict[str, str] = {
    "benchmark": "candle_benchmarks",
    "backend": "candle_backends",
    "search": "candle_search_algorithms",
    "evaluator": "candle_evaluators",
    "comm": "candle_communicators",
    "container": "candle_container_runtimes",
    "command": "candle_commands",
}
