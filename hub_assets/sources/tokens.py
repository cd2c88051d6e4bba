"""Record tokens: keyed hashes that stand in for agency record IDs outside the identity zone.

``record_token = HMAC-SHA256(key, "<source>|<record_id>")``. Without the key a token cannot be
computed from identity data, and changing the key changes every token. The key comes from
``HUB_SECRET_KEY``; for development a random key is generated once into the data directory,
with a warning. The key is never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets

import polars as pl

from hub_assets.settings import HubPaths

log = logging.getLogger(__name__)


def resolve_secret_key(configured: str | None, paths: HubPaths) -> bytes:
    value = configured or os.environ.get("HUB_SECRET_KEY")
    if value:
        return value.encode()
    key_file = paths.secret_key_file
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
        log.warning("HUB_SECRET_KEY is not set: generated a development key in %s. "
                    "Set HUB_SECRET_KEY in production.", key_file)
    return key_file.read_text().strip().encode()


def record_token(key: bytes, source: str, record_id: str) -> str:
    return hmac.new(key, f"{source}|{record_id}".encode(), hashlib.sha256).hexdigest()


def token_table(key: bytes, source: str, record_ids: pl.Series) -> pl.DataFrame:
    """One row per distinct non-null record ID: ``record_id, record_token``, each token equal to
    ``record_token(key, source, record_id)``. The key is set up once; each ID hashes from a copy."""
    keyed = hmac.new(key, f"{source}|".encode(), hashlib.sha256)
    distinct = record_ids.drop_nulls().unique().cast(pl.String)
    tokens = []
    for rid in distinct.to_list():
        h = keyed.copy()
        h.update(rid.encode())
        tokens.append(h.hexdigest())
    return pl.DataFrame({"record_id": distinct, "record_token": pl.Series(tokens, dtype=pl.String)})


def record_tokens(key: bytes, source: str, record_ids: pl.Series) -> pl.Series:
    """Vectorised over a column of record IDs (nulls stay null); equal to ``record_token`` per value.
    Each distinct ID is hashed once."""
    table = token_table(key, source, record_ids)
    return record_ids.replace_strict(table["record_id"], table["record_token"], default=None,
                                     return_dtype=pl.String)
