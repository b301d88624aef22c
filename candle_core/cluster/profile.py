"""The site profile: a small TOML file with what batch scripts need at one site.

Found at ``--site FILE``, else ``$CANDLE_SITE_PROFILE``, else ``~/.config/candle/site.toml``;
without one, the defaults below (Slurm, srun, no modules). Example::

    scheduler = "slurm"            # slurm, pbs or lsf
    partition = "gpu"              # default --partition
    account = "CSC249"             # default --account
    modules = ["PrgEnv-gnu", "cuda/12.4"]
    setup = ["source /lus/proj/venv/bin/activate"]   # shell lines run before candle
    launcher = "srun --mpi=pmi2"   # starts MPI ranks inside the allocation (default by scheduler:
                                   # slurm "srun --mpi=pmi2", pbs "mpiexec", lsf "mpirun")
    container = "singularity"      # with --image: runs candle inside the image
    directives = ["--constraint=a100"]  # extra scheduler directives, as written after #SBATCH
    warning_seconds = 120          # --signal=B:USR1@120: the job's warning before its walltime
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

from candle_core.errors import CandleError

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

PROFILE_VARIABLE = "CANDLE_SITE_PROFILE"
DEFAULT_PROFILE = Path("~/.config/candle/site.toml")
SCHEDULERS = ("slurm", "pbs", "lsf")
CONTAINERS = ("singularity", "apptainer", "podman", "docker", "charliecloud")


@dataclass
class SiteProfile:
    """One site's batch settings; ``source`` names the file they came from (or "defaults")."""

    scheduler: str = "slurm"
    partition: str | None = None
    account: str | None = None
    modules: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)
    launcher: str | None = None
    container: str = "singularity"
    directives: list[str] = field(default_factory=list)
    warning_seconds: int = 120
    source: str = "defaults"


def profile_path(explicit: str | None) -> Path | None:
    """The profile file to read: ``explicit``, else the environment's, else the default if it exists."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(PROFILE_VARIABLE):
        return Path(os.environ[PROFILE_VARIABLE]).expanduser()
    default = DEFAULT_PROFILE.expanduser()
    return default if default.is_file() else None


def load_profile(explicit: str | None = None) -> SiteProfile:
    """The site profile (see the module docstring); a CandleError names the file and the key of
    any unknown key or wrong type."""
    path = profile_path(explicit)
    if path is None:
        return SiteProfile()
    try:
        text = path.read_text(encoding="utf-8")
        table = tomllib.loads(text)
    except OSError as exc:
        raise CandleError(f"{path}: cannot read the site profile: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CandleError(f"{path}: not a TOML file: {exc}") from None
    types = {f.name: f.type for f in fields(SiteProfile) if f.name != "source"}
    for key, value in table.items():
        where = f"{path}:{_line_of(text, key)}"
        if key not in types:
            close = difflib.get_close_matches(key, types, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(types)}"
            raise CandleError(f"{where}: unknown key {key!r}{hint}")
        expected = types[key]
        if expected.startswith("list") and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise CandleError(f'{where}: {key} must be a list of strings, e.g. {key} = ["..."]')
        if expected == "int" and not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            raise CandleError(f"{where}: {key} must be a whole number of seconds >= 0, got {value!r}")
        if expected.startswith("str") and not isinstance(value, str):
            raise CandleError(f"{where}: {key} must be a string, got {value!r}")
    profile = SiteProfile(**table, source=str(path))
    for key, value, allowed in (
        ("scheduler", profile.scheduler, SCHEDULERS),
        ("container", profile.container, CONTAINERS),
    ):
        if value not in allowed:
            raise CandleError(f"{path}:{_line_of(text, key)}: {key} = {value!r}; choose one of {', '.join(allowed)}")
    return profile


def _line_of(text: str, key: str) -> int | str:
    """The line number where ``key`` is set in the TOML ``text`` ("?" if not found)."""
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return "?"
