"""Keyed tokens: hashes that stand in for agency-assigned identifiers outside the identity zone.

``record_token = HMAC-SHA256(key, "<source>|<record_id>")``. The other identifiers an agency
assigns (enrollment, household, registration, employer IDs; declared ``identifier: token``)
become ``HMAC-SHA256(key, "<agency>.<column>|<value>")``, so equal IDs still join (household
linkage works on tokens) and IDs of different agencies or columns never collide. A drop's ID
becomes ``drop_token`` and each of its rows a ``row_token`` (drop and row number); the drop ID
and row number themselves stay in the identity zone. Without the key no token can be computed
from identity data, and changing the key changes every token.

The key comes from ``HUB_SECRET_KEY``; for development a random key is generated once, with a
warning, into a 0600 file outside the data directory (``settings.dev_key_file``). The key is
never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets

import polars as pl

from hub_assets.settings import HubPaths, private_dir, write_private

log = logging.getLogger(__name__)


def resolve_secret_key(configured: str | None, paths: HubPaths) -> bytes:
    value = configured or os.environ.get("HUB_SECRET_KEY")
    if value:
        return value.encode()
    key_file = paths.secret_key_file
    if not key_file.exists():
        private_dir(key_file.parent)
        try:
            write_private(key_file, secrets.token_hex(32).encode())
            log.warning("HUB_SECRET_KEY is not set: generated a development key in %s. "
                        "Set HUB_SECRET_KEY in production.", key_file)
        except FileExistsError:
            pass  # another process made it first: use theirs
    return key_file.read_text().strip().encode()


def record_token(key: bytes, source: str, record_id: str) -> str:
    return hmac.new(key, f"{source}|{record_id}".encode(), hashlib.sha256).hexdigest()


def identifier_namespace(agency: str, column: str) -> str:
    """The token namespace of an agency-assigned content identifier (``hmis.household_id``)."""
    return f"{agency}.{column}"


def drop_token(key: bytes, agency: str, drop_id: str) -> str:
    return record_token(key, f"{agency}.drop", drop_id)


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


def row_tokens(key: bytes, agency: str, drop_id: str, source_rows: pl.Series) -> pl.Series:
    """``row_token`` of each row number of one drop: ``record_token(key, "<agency>.row",
    "<drop_id>:<row>")``. It names one delivered row (an episode's identity) without pointing
    at the file or the line."""
    located = pl.select(pl.concat_str(pl.lit(f"{drop_id}:"), source_rows.cast(pl.String))).to_series()
    return record_tokens(key, f"{agency}.row", located)
