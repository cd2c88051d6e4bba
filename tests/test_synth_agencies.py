"""Each agency's synthetic drops depend on its own declaration and name only."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from hub_assets.sources.declaration import AGENCIES_DIR, Synth, agency, load_agencies, parse_declaration
from hub_assets.synth import generate_city


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_declaring_another_agency_leaves_every_other_agencys_drops_byte_identical(tmp_path):
    declared = load_agencies()
    # A new agency whose name sorts first, so every existing agency moves one position along.
    extra = dataclasses.replace(agency("rec_parks"), name="aa_extra", synth=Synth(program="rec_parks"))
    generate_city(persons=300, seed=5, out=tmp_path / "before", agencies=declared)
    generate_city(persons=300, seed=5, out=tmp_path / "after", agencies=(extra, *declared))
    before, after = _files(tmp_path / "before" / "landing"), _files(tmp_path / "after" / "landing")
    added = {p for p in after if p.parts[0] == "aa_extra"}
    assert added, "the extra agency wrote no drops"
    assert set(after) - added == set(before)
    changed = [str(p) for p in before if before[p] != after[p]]
    assert changed == []


def test_an_agency_without_a_synthetic_behaviour_is_an_error_naming_it(tmp_path):
    orphan = dataclasses.replace(agency("hmis"), name="no_behaviour", synth=Synth(program="no_behaviour"))
    with pytest.raises(LookupError, match=r"agency no_behaviour: .*synth.program is 'no_behaviour'"):
        generate_city(persons=50, seed=1, out=tmp_path, agencies=(*load_agencies(), orphan))
    assert not (tmp_path / "landing").exists(), "drops were written before the missing behaviour was found"


def test_a_synth_block_with_an_unknown_key_or_case_is_refused():
    raw = yaml.safe_load((AGENCIES_DIR / "hmis.yaml").read_text())
    with pytest.raises(ValueError, match="agency hmis: synth block has unknown keys \\['cases'\\]"):
        parse_declaration({**raw, "synth": {"cases": "upper"}})
    with pytest.raises(ValueError, match="synth.case must be upper, title or typed, not 'shouty'"):
        parse_declaration({**raw, "synth": {"case": "shouty"}})
