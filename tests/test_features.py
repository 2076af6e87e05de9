"""The registry: request bodies shaped exactly as the seed samples."""

import json
import re
from pathlib import Path

import pytest

from tests.seeds import seed
from ycecli.errors import InvalidInput
from ycecli.features import FEATURES, GROUPS, get_feature

SEED = seed("003_ebfb568487e1b227.txt")  # the extract in tests/seeds/


def shape(value):
    """Structure and field names, with values reduced to their JSON types."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def test_enhance_body_matches_the_seed_request_sample():
    # 003:8569 (CATALOG 2.1): the documented run-task request sample.
    sample = {
        "request_id": 0,
        "payload": {
            "file_sets": {"src_ids": ["pfNK5PuRe0MrwLHcGA3DOmB1ahwfXTbYHjv+KoBIxbE="]},
            "actions": [{"id": 0, "params": {"scale": 1}}],
        },
    }
    feature = get_feature("enhance")
    body = feature.build_body(
        0,
        {"source": ["pfNK5PuRe0MrwLHcGA3DOmB1ahwfXTbYHjv+KoBIxbE="]},
        feature.resolve_params({"scale": 1}),
    )
    assert body == sample


def test_enhance_sample_is_really_in_the_seed():
    assert re.search(r'"scale":\s*1', SEED.text)


def test_parameters_are_checked_with_clear_messages():
    feature = get_feature("enhance")
    assert feature.resolve_params({}) == {"scale": 2}
    assert feature.resolve_params({"scale": "4"}) == {"scale": 4}
    for bad, fragment in ((3, "not allowed"), ("two", "not a valid int"), (2.5, "not a valid")):
        with pytest.raises(InvalidInput, match=fragment) as info:
            feature.resolve_params({"scale": bad})
        assert "1, 2, 4" in (info.value.hint or "")
    with pytest.raises(InvalidInput, match="unknown parameter"):
        feature.resolve_params({"scael": 2})


def test_registry_is_consistent():
    commands = [f.command for f in FEATURES]
    assert len(commands) == len(set(commands))
    for feature in FEATURES:
        assert feature.group in GROUPS
        # One main input (one task per value), or none for a feature without files.
        assert sum(1 for i in feature.inputs if i.positional) <= 1
        json.dumps(
            feature.build_body(
                0, {i.name: ["x"] for i in feature.inputs}, feature.resolve_params({})
            )
        )


def test_unknown_feature_lists_the_known_ones():
    with pytest.raises(InvalidInput) as info:
        get_feature("enhanse")
    assert "enhance" in info.value.hint


def test_readme_maps_every_command_to_its_vendor_feature():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for feature in FEATURES:
        if not feature.hidden:
            assert f"| `yce {feature.command}` |" in readme, feature.command
            assert f"`{feature.slug}`" in readme, feature.slug
