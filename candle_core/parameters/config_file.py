"""Reading CANDLE model files (INI): every section flattened, each value with its file:line."""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from candle_core.errors import CandleError
from candle_core.limits import MODEL_FILE_KEYS, MODEL_FILE_LIMIT, read_limited_text, shorten
from candle_core.parameters.literal import LiteralError, parse_literal

_SECTION = re.compile(r"^\s*\[([^\]]+)\]")
_OPTION = re.compile(r"^([^\s=:;#][^=:]*?)\s*[=:]")


@dataclass(frozen=True)
class ConfigEntry:
    """One ``key = value`` of a model file."""

    key: str
    value: Any
    text: str
    path: Path
    line: int
    section: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def _option_lines(lines: list[str]) -> dict[tuple[str, str], int]:
    """Map (section, lower-case key) to the line number where the key is first written."""
    found: dict[tuple[str, str], int] = {}
    section = ""
    for number, raw in enumerate(lines, start=1):
        header = _SECTION.match(raw)
        if header:
            section = header.group(1).strip()
            continue
        option = _OPTION.match(raw)
        if option:
            found.setdefault((section, option.group(1).strip().lower()), number)
    return found


@dataclass
class ConfigFile:
    """A model file's entries (first occurrence of each key wins), warnings, and the values
    that could not be read (each message names file:line and key)."""

    entries: list[ConfigEntry]
    warnings: list[str]
    problems: list[str]
    unreadable_keys: set[str]


def read_config_file(path: str | Path) -> ConfigFile:
    """Read a model file. Raises ``CandleError`` naming file:line if the file is unreadable
    or malformed; values that are not Python literals are returned as ``problems``."""
    path = Path(path)
    try:
        text = read_limited_text(path, MODEL_FILE_LIMIT, "model file")
    except FileNotFoundError:
        raise CandleError(f"{path}: configuration file not found") from None
    except IsADirectoryError:
        raise CandleError(f"{path}: is a directory, not a configuration file") from None
    except OSError as exc:
        raise CandleError(f"{path}: cannot read configuration file: {exc.strerror or exc}") from None

    parser = configparser.ConfigParser(interpolation=None, strict=True, empty_lines_in_values=False)
    try:
        parser.read_string(text, source=str(path))
    except configparser.MissingSectionHeaderError as exc:
        raise CandleError(
            f"{path}:{exc.lineno}: expected a section header such as [Global_Params] before {exc.line.strip()!r}"
        ) from None
    except configparser.DuplicateOptionError as exc:
        raise CandleError(
            f"{path}:{exc.lineno}: key '{exc.option}' is written twice in section [{exc.section}]; keep one"
        ) from None
    except configparser.DuplicateSectionError as exc:
        raise CandleError(f"{path}:{exc.lineno}: section [{exc.section}] appears twice; merge them") from None
    except configparser.ParsingError as exc:
        lineno, bad = exc.errors[0]
        raise CandleError(f"{path}:{lineno}: cannot parse {shorten(bad.strip())!r}: expected 'key = value'") from None

    keys = sum(len(parser.options(section)) for section in parser.sections())
    if keys > MODEL_FILE_KEYS:
        raise CandleError(f"{path}: {keys:,} keys is too many for a model file (limit {MODEL_FILE_KEYS:,})")
    lines = text.splitlines()
    where = _option_lines(lines)
    entries: list[ConfigEntry] = []
    seen: dict[str, ConfigEntry] = {}
    problems: list[str] = []
    warnings: list[str] = []
    unreadable: set[str] = set()
    for section in parser.sections():
        for key, raw in parser.items(section, raw=True):
            line = where.get((section, key), 0)
            if key in seen:
                first = seen[key]
                warnings.append(
                    f"{path}:{line}: key '{key}' in [{section}] is ignored; "
                    f"the first value, at line {first.line} in [{first.section}], is used"
                )
                continue
            try:
                value = parse_literal(raw)
            except LiteralError as exc:
                problems.append(f"{path}:{line}: key '{key}': {exc.hint} (found {shorten(raw.strip())!r})")
                unreadable.add(key)
                continue
            entry = ConfigEntry(key, value, raw, path, line, section)
            seen[key] = entry
            entries.append(entry)
    return ConfigFile(entries, warnings, problems, unreadable)


def format_config(values: dict[str, Any], section: str = "Global_Params") -> str:
    """Write parameters back as a CANDLE model file that ``read_config_file`` reads unchanged."""
    lines = [f"[{section}]"]
    lines += [f"{key} = {value!r}" for key, value in values.items()]
    return "\n".join(lines) + "\n"
