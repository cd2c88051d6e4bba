"""Files the hub re-reads often (``governance.yaml``, dbt's ``manifest.json``), parsed once per
version: again only when the file's modification time or size changes.

Every public release and governance check asks for both; parsing them each time cost about 5 s
of a ``hub run``'s public stage (cProfile, 100k-row city). The parsed value is shared between
callers: they read it, never change it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def parsed_once_per_version(parse: Callable[[Path], T]) -> Callable[[Path], T]:
    """``parse(path)``, cached by the file's resolved path, modification time and size."""

    @functools.lru_cache(maxsize=8)
    def cached(path: Path, mtime_ns: int, size: int) -> T:
        return parse(path)

    @functools.wraps(parse)
    def read(path: Path) -> T:
        path = Path(path).resolve()
        stat = path.stat()
        return cached(path, stat.st_mtime_ns, stat.st_size)

    return read
