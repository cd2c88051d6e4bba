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
    ``record_token(key, source, record_id)``.

    This is HMAC-SHA256 written out (RFC 2104: ``H(K^opad || H(K^ipad || m))``) over two
    pre-keyed SHA-256 states that are copied per ID, so each ID costs four C calls and no
    Python-level ``hmac`` wrapper: about 1.6x faster than ``hmac.new(...).copy()`` per value,
    and the values are the same (tests compare them with ``hmac.new``)."""
    inner, outer = _keyed_states(key)
    prefix = f"{source}|".encode()
    distinct = record_ids.drop_nulls().unique().cast(pl.String)
    tokens = []
    append, new_inner, new_outer = tokens.append, inner.copy, outer.copy
    for rid in distinct.to_list():
        h = new_inner()
        h.update(prefix + rid.encode())
        o = new_outer()
        o.update(h.digest())
        append(o.hexdigest())
    return pl.DataFrame({"record_id": distinct, "record_token": pl.Series(tokens, dtype=pl.String)})


def record_tokens(key: bytes, source: str, record_ids: pl.Series) -> pl.Series:
    """Vectorised over a column of record IDs (nulls stay null); equal to ``record_token`` per value.
    Each distinct ID is hashed once."""
    table = token_table(key, source, record_ids)
    return record_ids.replace_strict(table["record_id"], table["record_token"], default=None,
                                     return_dtype=pl.String)


def _keyed_states(key: bytes) -> tuple["hashlib._Hash", "hashlib._Hash"]:
    block = hashlib.sha256().block_size
    if len(key) > block:  # as in hmac: a long key is hashed first
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    return inner, outer
