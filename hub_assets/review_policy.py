"""The board's policy for people awaiting clerical review when a full re-link runs: the choices
and the one ``governance.yaml`` sets (``linkage.pending_review_at_relink``, default ``hold``).

Linkage applies it (``linkage/review.py``) and governance reads it with the rest of the file
(``governance/agreements.py``); both ask this module, so neither imports the other.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, get_args

import yaml

from hub_assets.file_versions import parsed_once_per_version
from hub_assets.settings import GOVERNANCE_FILE

Policy = Literal["hold", "merge"]
POLICIES: tuple[str, ...] = get_args(Policy)


def policy_from(raw: dict) -> str:
    """``linkage.pending_review_at_relink`` of a parsed ``governance.yaml``, checked."""
    pending_review = str((raw.get("linkage") or {}).get("pending_review_at_relink", "hold"))
    if pending_review not in POLICIES:
        raise ValueError(f"governance.yaml: linkage.pending_review_at_relink must be "
                         f"{' or '.join(POLICIES)}, not {pending_review!r}")
    return pending_review


def pending_review_at_relink(path: Path | None = None) -> str:
    """The policy in force: ``governance.yaml`` at the repo root (``HUB_GOVERNANCE_FILE`` points elsewhere)."""
    return _read_policy(Path(path or os.environ.get("HUB_GOVERNANCE_FILE") or GOVERNANCE_FILE))


@parsed_once_per_version
def _read_policy(path: Path) -> str:
    with path.open() as fh:
        return policy_from(yaml.safe_load(fh) or {})
