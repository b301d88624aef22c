"""The node-local model cache of a search (``--model-cache node``).

A trial's trained state, ``model/`` and ``ckpts/``, is written to storage local to the node that
runs it: ``$CANDLE_NODE_CACHE`` (else ``$TMPDIR``, else /tmp) ``/candle-node-cache/<node>/
<experiment>/<run id>``, reached through symbolic links of those names in the trial's run
directory on the shared file system. Every checkpoint the run writes stays there. When the trial
has trained, its own process flushes to the shared run directory only what the search keeps:

* the latest checkpoint, when an algorithm will continue from the trial (PBT's members before
  the last round, ASHA's promotions: the trial was started with ``checkpoint``);
* ``model/``, when the model is kept: without ``--keep-models`` every model is kept; with
  ``--keep-models K``, those better than the K-th best finished trial when the trial started.
  A kept model's checkpoints stay on the node: its weights are in ``model/``.

The flushed folders replace the links (copied under a temporary name, then renamed), the node's
copy is deleted, and a link to state that was not kept is removed, so the shared folder never
holds a link into some node's disk. A trial reports only after its flush: the search never ends
with a kept model left on a node, and a warm start on another node reads the shared copy. The
driver never waits for a flush; the trial's slot does.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from candle_core.checkpoint import copy_latest
from candle_core.launch import node_name

CACHE_VARIABLE = "CANDLE_NODE_CACHE"
STATE_FOLDERS = ("model", "ckpts")


def cache_root() -> Path:
    """This node's cache folder for candle."""
    base = os.environ.get(CACHE_VARIABLE) or os.environ.get("TMPDIR") or "/tmp"
    return Path(base) / "candle-node-cache" / node_name()


def attach(run_dir: Path, experiment_id: str) -> Path:
    """Point ``run_dir``'s state folders at fresh folders of this node's cache; return the
    node's folder for the run."""
    local = cache_root() / experiment_id / run_dir.name
    shutil.rmtree(local, ignore_errors=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    for folder in STATE_FOLDERS:
        (local / folder).mkdir(parents=True)
        remove(run_dir / folder)
        (run_dir / folder).symlink_to(local / folder, target_is_directory=True)
    return local


def remove(path: Path) -> None:
    """Delete a state folder of a run directory, or the link that stands for it."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def flush(run_dir: Path, keep_model: bool, keep_checkpoint: bool) -> int:
    """Copy the kept state behind ``run_dir``'s links to the shared run directory, drop the
    rest and the node's copy; return the bytes copied."""
    copied = 0
    links = [run_dir / folder for folder in STATE_FOLDERS if (run_dir / folder).is_symlink()]
    locals_ = {link.name: Path(os.readlink(link)) for link in links}
    for folder, source in locals_.items():
        keep = keep_model if folder == "model" else keep_checkpoint
        remove(run_dir / folder)
        if not keep or not source.exists():
            continue
        temporary = run_dir / f".{folder}.flushing"
        shutil.rmtree(temporary, ignore_errors=True)
        if folder == "ckpts":
            copied += copy_latest(source, temporary)
        else:
            shutil.copytree(source, temporary)
            copied += sum(path.stat().st_size for path in temporary.rglob("*") if path.is_file())
        if temporary.exists():  # a run that wrote no checkpoint has none to flush
            temporary.rename(run_dir / folder)
    for source in locals_.values():
        shutil.rmtree(source.parent, ignore_errors=True)
    return copied
