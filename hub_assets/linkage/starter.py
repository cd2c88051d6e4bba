"""The starter model: what the hub links with before it has enough records to train its own.

A hub's first drops may be one agency's few hundred records with no two of them the same
person. The method cannot estimate anything from that (the prior comes out zero and EM has
no matches to learn from), yet the drop must still become people. Until training succeeds,
linkage uses ``starter_model.json``: the hub's own settings trained, unsupervised, on the
bundled synthetic city's identity records (never its truth). The weekly retrain replaces it
as soon as the city's own data can carry a model; the model asset's metadata says which one
is in use.

Regenerate after changing ``settings.py``: ``make run`` then
``python -m hub_assets.linkage.starter data``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

STARTER_MODEL = Path(__file__).with_name("starter_model.json")


def train_starter(data_dir: Path) -> Path:
    from hub_assets.linkage.pipeline import train_model
    from hub_assets.linkage.prepare import prepare_from_identity
    from hub_assets.linkage.train import save_model

    con = duckdb.connect(str(data_dir / "identity.duckdb"), read_only=True)
    try:
        model, _ = train_model(prepare_from_identity(con))
    finally:
        con.close()
    return save_model(model, STARTER_MODEL)


if __name__ == "__main__":
    print(train_starter(Path(sys.argv[1] if len(sys.argv) > 1 else "data")))
