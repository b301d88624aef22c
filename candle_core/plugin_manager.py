"""The plugin manager: the core's own hook modules, then every entry point of group ``candle``.

Built-in plugins (benchmarks, backends, search, evaluators, communicators, containers) are
listed in pyproject.toml under ``[project.entry-points.candle]``, exactly as a third-party
package lists its own. A plugin that fails to import or to validate is recorded in
``failures`` and left out; the others work.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pluggy

from candle_core import hookspecs
from candle_core.errors import CandleError, did_you_mean

if TYPE_CHECKING:
    from candle_core.benchmark import Benchmark

ENTRY_POINT_GROUP = "candle"
CORE_MODULES = ("candle_core.keywords", "candle_core.core_hooks")


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded, and why."""

    name: str
    module: str
    distribution: str
    version: str
    error: str


@dataclass(frozen=True)
class PluginInfo:
    """What ``candle plugins`` shows for one registered plugin module."""

    name: str
    module: str
    distribution: str
    version: str


def _candle_version() -> str:
    try:
        return metadata.version("candle")
    except metadata.PackageNotFoundError:
        return "unknown"


class CandlePluginManager(pluggy.PluginManager):
    """pluggy's manager plus a record of plugin origins and failures, and lookups by family."""

    def __init__(self) -> None:
        super().__init__(ENTRY_POINT_GROUP)
        self.add_hookspecs(hookspecs)
        self.failures: list[PluginFailure] = []
        self.info: dict[str, PluginInfo] = {}

    def register_checked(self, plugin: object, info: PluginInfo) -> None:
        """Register a plugin; on a bad hook (unknown name, wrong arguments) record a failure."""
        try:
            self.register(plugin, name=info.name)
            self.check_pending()
        except (pluggy.PluginValidationError, ValueError) as exc:
            if self.is_registered(plugin):
                self.unregister(plugin)
            self.failures.append(PluginFailure(info.name, info.module, info.distribution, info.version, str(exc)))
            return
        self.info[info.name] = info

    def load_core(self) -> None:
        version = _candle_version()
        for module_name in CORE_MODULES:
            module = importlib.import_module(module_name)
            self.register_checked(module, PluginInfo(module_name, module_name, "candle", version))

    def load_entry_points(self) -> None:
        for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = entry_point.dist
            info = PluginInfo(
                entry_point.name,
                entry_point.value,
                dist.metadata["Name"] if dist else "?",
                dist.version if dist else "?",
            )
            if self.has_plugin(info.name):
                continue
            try:
                plugin = entry_point.load()
            except Exception as exc:  # noqa: BLE001 — any import failure is the plugin's, not ours
                self.failures.append(
                    PluginFailure(
                        info.name, info.module, info.distribution, info.version, f"{type(exc).__name__}: {exc}"
                    )
                )
                continue
            self.register_checked(plugin, info)

    # ------------------------------------------------------------------ lookups by family
    def components(self, family: str) -> dict[str, tuple[Callable[[], Any] | Any, str]]:
        """All named components of a family: ``{name: (factory or object, plugin name)}``."""
        hook = getattr(self.hook, hookspecs.NAMING_HOOKS[family])
        found: dict[str, tuple[Any, str]] = {}
        for impl in reversed(hook.get_hookimpls()):
            answer = impl.function()
            if not answer:
                continue
            if family == "benchmark":
                answer = {benchmark.name: benchmark for benchmark in answer}
            for name, component in answer.items():
                found.setdefault(name, (component, impl.plugin_name))
        return found

    def component(self, family: str, name: str) -> Any:
        """One component by name; a clear error lists the known ones (and failed plugins)."""
        found = self.components(family)
        if name in found:
            component = found[name][0]
            return component if family == "benchmark" else _usable(family, name, component)
        known = ", ".join(sorted(found)) or "none"
        message = f"unknown {family} '{name}'{did_you_mean(name, found)}; known: {known}"
        if self.failures:
            message += "; plugins that failed to load: " + ", ".join(f.name for f in self.failures)
        raise CandleError(message)

    def benchmark(self, name: str) -> Benchmark:
        return self.component("benchmark", name)

    def describe(self) -> list[dict[str, str]]:
        """One row per (plugin, family, name) for ``candle plugins``, then one per failure.

        A plugin belongs to every family whose hook it implements; for the naming families
        each component it names gets its own row, for the others the plugin's name stands.
        """
        rows: list[dict[str, str]] = []
        for plugin_name, info in self.info.items():
            plugin = self.get_plugin(plugin_name)
            for caller in self.get_hookcallers(plugin) or []:
                family = hookspecs.HOOK_FAMILIES[caller.name]
                impl = next(i for i in caller.get_hookimpls() if i.plugin is plugin)
                if family in hookspecs.NAMING_HOOKS:
                    answer: Any = impl.function() or ()
                    names = [b.name for b in answer] if family == "benchmark" else list(answer)
                else:
                    names = [plugin_name]
                for name in names:
                    row = {
                        "family": family,
                        "name": name,
                        "plugin": plugin_name,
                        "module": info.module,
                        "distribution": info.distribution,
                        "version": info.version,
                        "status": "ok",
                    }
                    if row not in rows:
                        rows.append(row)
        rows.sort(key=lambda row: (row["family"], row["name"]))
        for failure in self.failures:
            rows.append(
                {
                    "family": "?",
                    "name": failure.name,
                    "plugin": failure.name,
                    "module": failure.module,
                    "distribution": failure.distribution,
                    "version": failure.version,
                    "status": f"failed: {failure.error}",
                }
            )
        return rows


@functools.cache
def get_plugin_manager() -> CandlePluginManager:
    """The process-wide plugin manager, loaded on first use."""
    manager = CandlePluginManager()
    manager.load_core()
    manager.load_entry_points()
    return manager


# The extra that installs a missing framework, for the error that names it.
EXTRAS = {
    "torch": "torch",
    "keras": "keras",
    "tensorflow": "keras",
    "mpi4py": "mpi",
    "horovod": "horovod",
    "spython": "containers",
    "hpccm": "containers",
    "sklearn": "search",
    "deap": "search",
}


def _usable(family: str, name: str, factory: Callable[..., Any]) -> Callable[..., Any]:
    """``factory``, whose missing framework is a one-line error naming the extra to install."""

    def make(*args: Any, **kwargs: Any) -> Any:
        try:
            return factory(*args, **kwargs)
        except ModuleNotFoundError as exc:
            missing = (exc.name or "").partition(".")[0]
            if missing not in EXTRAS:
                raise
            raise CandleError(
                f"{family} '{name}' needs {missing}, not installed here: pip install 'candle[{EXTRAS[missing]}]'"
            ) from exc

    return make
