"""Resolving a benchmark's parameters, remembering where each value came from.

Precedence, lowest to highest:

1. the keyword definition's default (standard keywords, plugins, the benchmark);
2. the benchmark's default model file, or the ``--config_file`` that replaces it;
3. command-line flags;
4. values assigned by a search to one trial.

Then ``data_dir`` and ``run_dir`` are derived (see ``candle_core.directories``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from candle_core import directories
from candle_core.errors import CandleError, did_you_mean
from candle_core.keywords import ORIGIN, READ_BY_CANDLE
from candle_core.limits import shorten
from candle_core.parameters.command_line import ParsedFlags
from candle_core.parameters.config_file import read_config_file
from candle_core.parameters.keyword import UNSET, Keyword, ValueMismatch
from candle_core.parameters.registry import KeywordRegistry

if TYPE_CHECKING:
    from candle_core.benchmark import Benchmark


@dataclass(frozen=True)
class Source:
    """Where a value came from: kind is default, file, command line, search or derived."""

    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} {self.detail}" if self.kind != "file" else self.detail


@dataclass
class ResolvedParameters:
    """The final parameters, each with its source, plus warnings met on the way."""

    values: dict[str, Any]
    sources: dict[str, Source]
    config_path: Path
    warnings: list[str] = field(default_factory=list)

    def explain(self) -> dict[str, dict[str, Any]]:
        """``{name: {"value": ..., "source": ...}}`` for every resolved parameter."""
        return {name: {"value": self.values[name], "source": str(self.sources[name])} for name in self.values}


def locate_config_file(text: str, benchmark: Benchmark) -> Path:
    """Find a ``--config_file``: as given (absolute or from the working directory), then beside
    the benchmark's default file, then under ``$CANDLE_DATA_DIR`` (where CANDLE looks)."""
    given = Path(text).expanduser()
    candidates = (
        [given]
        if given.is_absolute()
        else [Path.cwd() / given, Path(benchmark.file_path) / given, directories.data_root() / given]
    )
    for candidate in candidates:
        if candidate.exists():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise CandleError(f"command line --config_file: file {text!r} not found (looked at {tried})")


def _passes_through(keyword: Keyword, value: Any) -> bool:
    """A model file's list for a one-value keyword that candle itself does not read."""
    standard = keyword.origin == ORIGIN and keyword.name in READ_BY_CANDLE
    one_value = not keyword.is_list and keyword.action != "list-of-lists"
    return isinstance(value, list) and one_value and not standard


def _mismatch(where: str, key: str, value: Any, exc: ValueMismatch) -> str:
    return f"{where}: key '{key}': expected {exc}, got {shorten(repr(value))}"


def resolve_parameters(
    benchmark: Benchmark,
    registry: KeywordRegistry,
    flags: ParsedFlags | None = None,
    overrides: Mapping[str, Any] | None = None,
    override_source: str = "search",
    strict: bool = False,
) -> ResolvedParameters:
    """Merge definition defaults, the model file, flags and overrides; check types and
    ``required``. Every problem found is reported at once in one ``CandleError``."""
    given = dict(flags.given) if flags else {}
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    problems: list[str] = list(flags.problems) if flags else []
    warnings: list[str] = []
    invalid: set[str] = set()  # keys given a bad value: reported once, not again as missing

    for definition in registry:
        if definition.default is not UNSET:
            values[definition.name] = definition.default
            sources[definition.name] = Source("default", f"({definition.origin})")

    config_flag = given.pop("config_file", None)
    if config_flag is not None:
        config_path = locate_config_file(str(config_flag.raw), benchmark)
        values["config_file"] = str(config_path)
        sources["config_file"] = Source("command line", config_flag.flag)
    else:
        config_path = benchmark.default_model_path
    config = read_config_file(config_path)
    warnings += config.warnings
    problems += config.problems
    invalid |= config.unreadable_keys

    for entry in config.entries:
        keyword = registry.get(entry.key)
        if keyword is None:
            message = (
                f"{entry.where}: unknown keyword '{entry.key}'{did_you_mean(entry.key, registry.names())}; "
                f"define it in the benchmark's additional_definitions"
            )
            if strict:
                problems.append(message)
                continue
            warnings.append(message + " (kept as written; --strict makes this an error)")
            values[entry.key] = entry.value
        else:
            try:
                values[entry.key] = keyword.coerce(entry.value)
            except ValueMismatch as exc:
                if _passes_through(keyword, entry.value):
                    warnings.append(
                        f"{entry.where}: key '{entry.key}': a list for a one-value keyword, passed through as "
                        "written (as CANDLE does)"
                    )
                    values[entry.key] = entry.value
                    sources[entry.key] = Source("file", entry.where)
                    continue
                problems.append(_mismatch(entry.where, entry.key, entry.value, exc))
                invalid.add(entry.key)
                continue
        sources[entry.key] = Source("file", entry.where)

    for name, flag in given.items():
        keyword = registry[name]
        try:
            values[name] = keyword.coerce(flag.raw, from_text=True)
        except ValueMismatch as exc:
            raw = " ".join(flag.raw) if isinstance(flag.raw, list) else flag.raw
            problems.append(f"command line {flag.flag}: expected {exc}, got {shorten(repr(raw))}")
            invalid.add(name)
            continue
        sources[name] = Source("command line", flag.flag)

    for name, value in (overrides or {}).items():
        keyword = registry.get(name)
        if keyword is None:
            problems.append(
                f"{override_source}: '{name}' is not a keyword of benchmark {benchmark.name}"
                f"{did_you_mean(name, registry.names())}"
            )
            continue
        try:
            values[name] = keyword.coerce(value, from_text=isinstance(value, str))
        except ValueMismatch as exc:
            problems.append(_mismatch(override_source, name, value, exc))
            invalid.add(name)
            continue
        sources[name] = Source("search", override_source)

    missing = sorted(name for name in benchmark.required if name not in values and name not in invalid)
    if missing:
        problems.append(
            f"{config_path}: benchmark {benchmark.name} requires keys that are not set: {', '.join(missing)}; "
            f"set them in the model file or on the command line (--{missing[0]} ...)"
        )
    if problems:
        raise CandleError(*problems)

    if "model_name" not in values:
        values["model_name"] = benchmark.name
        sources["model_name"] = Source("default", "(benchmark name)")
    _derive_directories(values, sources)
    return ResolvedParameters(values, sources, Path(config_path), warnings)


def _derive_directories(values: dict[str, Any], sources: dict[str, Source]) -> None:
    """``data_dir`` as given (model file, flag), else derived; ``run_dir`` always derived."""
    roots = directories.describe_roots()
    if values.get("data_dir"):
        values["data_dir"] = str(Path(str(values["data_dir"])).expanduser())
    else:
        values["data_dir"] = str(directories.data_dir(values))
        sources["data_dir"] = Source("derived", f"from {roots} and model_name")
    values["run_dir"] = str(directories.run_dir(values))
    sources["run_dir"] = Source("derived", f"from {roots}, model_name, output_dir, experiment_id, run_id")
