"""The record-token key: read through Dagster's EnvVar, never visible in logs, metadata or run
config; changing it changes every token; without it a token cannot be computed."""

import hashlib
import hmac

import dagster as dg
from dagster._serdes import serialize_value

from hub_assets.defs.resources import HubResource, hub_resource
from hub_assets.sources.tokens import record_token

SECRET = "s3cret-key-used-only-in-this-test-0123456789"
RECORD_IDS = [f"RP-{i:06d}" for i in range(200)]


def test_changing_the_key_changes_every_token():
    before = [record_token(b"key-one", "rec_parks", rid) for rid in RECORD_IDS]
    after = [record_token(b"key-two", "rec_parks", rid) for rid in RECORD_IDS]
    assert len(set(before)) == len(RECORD_IDS)
    assert all(a != b for a, b in zip(before, after))
    assert not set(before) & set(after)


def test_tokens_cannot_be_computed_from_identity_data_without_the_key():
    tokens = {record_token(SECRET.encode(), "rec_parks", rid) for rid in RECORD_IDS}
    guesses = set()
    for rid in RECORD_IDS:
        message = f"rec_parks|{rid}".encode()
        guesses |= {hashlib.sha256(message).hexdigest(), hashlib.sha256(rid.encode()).hexdigest(),
                    hmac.new(b"", message, hashlib.sha256).hexdigest(),
                    hmac.new(b"another-key", message, hashlib.sha256).hexdigest(),
                    hmac.new(rid.encode(), b"rec_parks", hashlib.sha256).hexdigest()}
    assert not tokens & guesses


def test_the_key_comes_from_an_envvar_and_never_reaches_logs_metadata_or_run_config(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_SECRET_KEY", SECRET)
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    resource = hub_resource()
    assert isinstance(resource.secret_key, dg.EnvVar)  # configuration names the variable, not the value

    @dg.asset
    def tokens(context: dg.AssetExecutionContext, hub: HubResource) -> dg.MaterializeResult:
        token = record_token(hub.key(), "rec_parks", "RP-000001")
        context.log.info(f"computed token {token}")
        return dg.MaterializeResult(metadata={"token": token})

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([tokens], instance=instance, resources={"hub": resource})
        assert result.success
        token = result.asset_materializations_for_node("tokens")[0].metadata["token"].value
        assert token == record_token(SECRET.encode(), "rec_parks", "RP-000001")  # the key was used
        run = instance.get_run_by_id(result.run_id)
        records = instance.all_logs(result.run_id)
        everything = serialize_value(run) + "".join(serialize_value(r) for r in records)
    assert token in everything  # the log is there to be searched ...
    assert SECRET not in everything  # ... and the key is not in it


def test_column_tokens_equal_the_definition_for_keys_of_any_length():
    import polars as pl

    from hub_assets.sources.tokens import record_tokens

    ids = pl.Series(["RP-1", None, "RP-2", "RP-1", "Zoë-3"])
    for key in (b"", b"short", b"k" * 64, b"k" * 65, SECRET.encode() * 5):  # 65+ bytes: hmac hashes the key
        expected = [hmac.new(key, f"rec_parks|{rid}".encode(), hashlib.sha256).hexdigest() if rid else None
                    for rid in ids]
        assert record_tokens(key, "rec_parks", ids).to_list() == expected


def test_a_resource_used_outside_a_run_keys_tokens_with_the_secret_not_the_variable_name(tmp_path, monkeypatch):
    """The CLI and the drop sensors build the resource and call it directly: the EnvVar it holds
    must resolve to the key, as it does inside a run."""
    monkeypatch.setenv("HUB_SECRET_KEY", SECRET)
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    assert hub_resource().key() == SECRET.encode()
