"""Hyperparameter search spaces in CANDLE/Supervisor's JSON format.

A space file is a JSON list; each entry names a keyword and its type:

* ``constant``: ``value``;
* ``int`` / ``float``: ``lower``, ``upper`` (inclusive), optional ``sigma`` (GA mutation width)
  and, candle's own, ``log: true`` (sample on a log scale);
* ``logical``: True or False;
* ``categorical``: ``values`` (``element_type`` int, float or string);
* ``ordered``: ``values`` in an order that matters, optional ``sigma`` (steps for mutation).

Values are handed to the benchmark as search-assigned parameters; as in CANDLE, a string such
as ``"500 100 50"`` for a list keyword becomes ``[500, 100, 50]`` (done by the keyword itself).
Every parameter can also be mapped to [0, 1] and back (``encode``/``decode``), which is what the
model-based searches work on.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from candle_core.errors import CandleError, did_you_mean
from candle_core.limits import SPACE_FILE_LIMIT, read_limited_text

TYPES = ("constant", "int", "float", "logical", "categorical", "ordered")
ENTRY_KEYS = ("name", "type", "element_type", "values", "value", "lower", "upper", "sigma", "log")
ELEMENT_TYPES = {"int": int, "float": float, "string": str, "str": str, "bool": bool, "logical": bool}


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    values: tuple = ()
    lower: float = 0.0
    upper: float = 1.0
    sigma: float | None = None
    log: bool = False

    # ------------------------------------------------------------------ sampling
    def sample(self, rng: np.random.Generator) -> Any:
        return self.decode(float(rng.random()))

    def grid(self, points: int) -> list[Any]:
        """Values for a grid search: every choice, or ``points`` evenly spaced numbers."""
        if self.type in ("categorical", "ordered", "logical", "constant"):
            return list(self.choices)
        if self.type == "int" and self.upper - self.lower + 1 <= points:
            return list(range(int(self.lower), int(self.upper) + 1))
        values = [self.decode(i / (points - 1)) for i in range(points)] if points > 1 else [self.decode(0.5)]
        return list(dict.fromkeys(values))

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is one this parameter can take (a number within bounds, or a choice)."""
        if self.type in ("int", "float"):
            is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
            return is_number and self.lower <= value <= self.upper
        return value in self.choices

    @property
    def choices(self) -> tuple:
        if self.type == "logical":
            return (False, True)
        return self.values

    # ------------------------------------------------------------------ unit-interval coordinates
    def encode(self, value: Any) -> float:
        """Map a value to [0, 1] (choices: their index spread over [0, 1])."""
        if self.type in ("categorical", "ordered", "logical", "constant"):
            choices = self.choices
            return choices.index(value) / max(1, len(choices) - 1) if len(choices) > 1 else 0.0
        low, high, x = self.lower, self.upper, float(value)
        if self.log:
            low, high, x = math.log(low), math.log(high), math.log(x)
        return 0.0 if high == low else (x - low) / (high - low)

    def decode(self, u: float) -> Any:
        u = min(max(u, 0.0), 1.0)
        if self.type in ("categorical", "ordered", "logical", "constant"):
            choices = self.choices
            return choices[min(int(u * len(choices)), len(choices) - 1)]
        low, high = self.lower, self.upper
        if self.type == "int":  # one bin per integer (log-spaced bins on a log scale)
            if self.log:
                return int(min(math.floor(math.exp(math.log(low) + u * (math.log(high + 1) - math.log(low)))), high))
            return int(min(low + math.floor(u * (high - low + 1)), high))
        if self.log:
            return float(math.exp(math.log(low) + u * (math.log(high) - math.log(low))))
        return float(low + u * (high - low))


@dataclass
class SearchSpace:
    parameters: list[Parameter]
    source: str = "search space"
    names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.names = [p.name for p in self.parameters]

    def __len__(self) -> int:
        return len(self.parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        return {p.name: p.sample(rng) for p in self.parameters}

    def contains(self, point: Mapping[str, Any]) -> bool:
        """Whether ``point`` gives every parameter a value it can take (other keys are ignored)."""
        return all(p.name in point and p.contains(point[p.name]) for p in self.parameters)

    def encode(self, point: Mapping[str, Any]) -> np.ndarray:
        return np.array([p.encode(point[p.name]) for p in self.parameters], dtype=float)

    def decode(self, vector: Sequence[float]) -> dict[str, Any]:
        return {p.name: p.decode(float(u)) for p, u in zip(self.parameters, vector, strict=True)}

    def grid(self, points: int) -> list[dict[str, Any]]:
        axes = [p.grid(points) for p in self.parameters]
        return [dict(zip(self.names, combo, strict=True)) for combo in product(*axes)]

    def check_keywords(self, registry: Any, benchmark: str) -> None:
        """Every parameter must be a keyword of the benchmark (``registry``: its KeywordRegistry),
        and every value the space can give must be one the keyword accepts (type and range)."""
        check_search_values([p.name for p in self.parameters], str(self.source))
        known = registry.names()
        unknown = [p.name for p in self.parameters if p.name not in known]
        if unknown:
            raise CandleError(
                *[
                    f"{self.source}: '{name}' is not a keyword of benchmark {benchmark}{did_you_mean(name, known)}"
                    for name in unknown
                ]
            )
        problems = [problem for p in self.parameters if (problem := _misfit(p, registry[p.name]))]
        if problems:
            raise CandleError(*[f"{self.source}: {problem}" for problem in problems])


def _misfit(parameter: Parameter, keyword: Any) -> str | None:
    """Why some value of ``parameter`` does not fit ``keyword`` (None: all values fit)."""
    if parameter.type == "float" and keyword.type is int:
        return f"'{parameter.name}' is an integer keyword: give the parameter type int, not float"
    if parameter.type in ("int", "float"):
        edges = [parameter.lower, parameter.upper]
        if keyword.type is int:
            edges = [int(edge) for edge in edges]
    else:
        edges = list(parameter.choices)
    for value in edges:
        try:
            keyword.coerce(value, from_text=isinstance(value, str) and keyword.type is not str)
        except ValueError as exc:
            return f"'{parameter.name}' can take {value!r}, but the keyword expects {exc}"
    return None


# keywords that say where a trial writes: the search names its trials' folders itself
PLACE_KEYWORDS = ("run_id", "experiment_id", "output_dir", "ckpt_directory", "save_path", "home_dir")


def check_search_values(names: Sequence[str], where: str) -> None:
    """Refuse search values (space, UPF line, algorithm) for the keywords that place outputs:
    a value such as ``run_id: ../../x`` would write a trial outside its experiment."""
    placing = [name for name in names if name in PLACE_KEYWORDS]
    if placing:
        raise CandleError(
            f"{where}: a search may not set {', '.join(placing)}: the search names and places every trial's "
            "folder itself (give output_dir and experiment_id on the command line)"
        )


def _number(entry: Mapping, key: str, where: str) -> float:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CandleError(f"{where}: '{key}' must be a finite number, got {value!r}")
    return float(value)


def _parameter(entry: Any, where: str) -> Parameter:
    if not isinstance(entry, Mapping):
        raise CandleError(f"{where}: expected an object with 'name' and 'type', got {entry!r}")
    for key in entry:
        if key not in ENTRY_KEYS:
            raise CandleError(f"{where}: unknown key '{key}'{did_you_mean(key, ENTRY_KEYS)}")
    name, kind = entry.get("name"), entry.get("type")
    if not isinstance(name, str) or not name:
        raise CandleError(f"{where}: every parameter needs a 'name'")
    where = f"{where} ('{name}')"
    if kind not in TYPES:
        raise CandleError(f"{where}: unknown type {kind!r}{did_you_mean(str(kind), TYPES)}; one of {', '.join(TYPES)}")
    sigma = entry.get("sigma")
    if sigma is not None and (isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not sigma >= 0):
        raise CandleError(f"{where}: 'sigma' must be a number >= 0, got {sigma!r}")
    if kind == "constant":
        if "value" not in entry:
            raise CandleError(f"{where}: a constant needs a 'value'")
        return Parameter(name, kind, values=(entry["value"],))
    if kind == "logical":
        return Parameter(name, kind)
    if kind in ("categorical", "ordered"):
        values = entry.get("values")
        if not isinstance(values, list) or not values:
            raise CandleError(f"{where}: a {kind} parameter needs a non-empty list 'values'")
        element = entry.get("element_type")
        if element is not None:
            cast = ELEMENT_TYPES.get(element)
            if cast is None:
                raise CandleError(f"{where}: unknown element_type {element!r}; one of {', '.join(ELEMENT_TYPES)}")
            wrong = [v for v in values if not isinstance(v, (int, float) if cast is float else cast)]
            if wrong:
                raise CandleError(f"{where}: values {wrong} are not of element_type {element}")
        if len(set(map(repr, values))) != len(values):
            raise CandleError(f"{where}: 'values' lists the same value twice")
        return Parameter(name, kind, values=tuple(values), sigma=sigma)
    lower, upper = _number(entry, "lower", where), _number(entry, "upper", where)
    if lower > upper:
        raise CandleError(f"{where}: lower {lower:g} is above upper {upper:g}")
    log = entry.get("log", False)
    if not isinstance(log, bool):
        raise CandleError(f"{where}: 'log' must be true or false (JSON booleans, unquoted), got {log!r}")
    if log and lower <= 0:
        raise CandleError(f"{where}: a log scale needs lower > 0, got {lower:g}")
    if kind == "int" and (lower != int(lower) or upper != int(upper)):
        raise CandleError(f"{where}: an int parameter needs integer bounds, got {lower:g}..{upper:g}")
    return Parameter(name, kind, lower=lower, upper=upper, sigma=sigma, log=log)


def load_space(path: str | Path) -> SearchSpace:
    """Read and check a space file; every problem names the file and the parameter."""
    path = Path(path)
    try:
        text = read_limited_text(path, SPACE_FILE_LIMIT, "search space")
    except OSError as exc:
        raise CandleError(f"{path}: cannot read the search space: {exc.strerror or exc}") from None
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CandleError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    if not isinstance(entries, list) or not entries:
        raise CandleError(f"{path}: a search space is a non-empty JSON list of parameters")
    parameters = [_parameter(entry, f"{path}: entry {i + 1}") for i, entry in enumerate(entries)]
    seen: dict[str, int] = {}
    for i, parameter in enumerate(parameters):
        if parameter.name in seen:
            raise CandleError(
                f"{path}: entries {seen[parameter.name] + 1} and {i + 1} both define "
                f"'{parameter.name}' (conflicting); keep one"
            )
        seen[parameter.name] = i
    return SearchSpace(parameters, source=str(path))
