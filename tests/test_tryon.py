"""Ring and earring try-on on the v2 API, against the sandbox over real sockets."""

import json

import pytest
from PIL import Image

from tests.conftest import fast_config, make_image, profile_for, run_cli, sandbox_clock
from ycecli.api import Yce
from ycecli.errors import NetworkError
from ycecli.features import get_feature
from ycecli.sandbox.server import Fault, Sandbox

# Seed 002's request sample (CATALOG 3.5), verbatim.
SAMPLE_002 = json.loads(
    '{"source_info": {"name": "https://example.com/selfie.jpg","mask_name": '
    '"https://example.com/src_mask.jpg"},"ref_file_urls": ["https://example.com/vto_sku.jpg"],'
    '"refmsk_file_urls": ["https://example.com/vto_sku_mask.jpg"],"src_file_url": '
    '"https://example.com/selfie.jpg","srcmsk_file_url": "https://example.com/src_mask.jpg",'
    '"object_infos": [{"name": "https://example.com/vto_sku.jpg","mask_name": '
    '"https://example.com/vto_sku_mask.jpg","parameter": {"ring_ambient_light_intensity": 1,'
    '"ring_anchor_point": null,"ring_need_remove_background": true,"ring_shadow_intensity": '
    '0.15,"ring_wearing_finger": null,"ring_wearing_location": null}}]}'
)


def test_ring_body_equals_the_002_sample_for_the_same_inputs():
    ring = get_feature("ring-vto")
    urls = {
        "source": ["https://example.com/selfie.jpg"],
        "source_mask": ["https://example.com/src_mask.jpg"],
        "product": ["https://example.com/vto_sku.jpg"],
        "product_mask": ["https://example.com/vto_sku_mask.jpg"],
    }
    body = ring.build_body(None, {}, ring.resolve_params({}), urls)
    assert body == SAMPLE_002  # 1 == 1.0 in JSON and in Python: the same value


def test_uploaded_files_use_the_id_fields():
    earring = get_feature("earring-vto")
    body = earring.build_body(
        None,
        {"source": ["S"], "product": ["P"]},
        earring.resolve_params({"earring_wearing_location": "10,20"}),
    )
    assert body["src_file_id"] == "S" and body["ref_file_ids"] == ["P"]
    assert body["source_info"] == {"name": "S"}
    parameter = body["object_infos"][0]["parameter"]
    assert parameter["earring_wearing_location"] == [10, 20]
    assert parameter["earring_is_right_ear"] is True and parameter["earring_occluded_type"] == 0
    assert parameter["earring_scale"] is None  # engine default, sent as null like 002


@pytest.fixture
def pictures(tmp_path):
    hand = make_image(tmp_path / "hand.jpg", size=(400, 300))
    ring = make_image(tmp_path / "ring.png", size=(100, 100), fmt="PNG")
    return hand, ring


def v2_env(sandbox):
    return {"YCE_API_KEY": sandbox.api_key, "YCE_API_BASE_V2": sandbox.url}


def test_ring_and_earring_run_with_only_an_api_key(sandbox, pictures, tmp_path):
    hand, ring = pictures
    result = run_cli(
        "--json", "ring-vto", str(hand), str(ring), "--finger", "ring", env=v2_env(sandbox)
    )
    assert result.code == 0, result.stderr
    [obj] = result.json_lines()
    assert obj["files"] == [str(tmp_path / "ring_ring-vto_finger-ring_source-hand.jpg")]
    assert Image.open(obj["files"][0]).size == (400, 300)  # composed onto the hand photo
    [task] = sandbox.tasks.values()
    assert task.body["object_infos"][0]["parameter"]["ring_wearing_finger"] == 3

    result = run_cli(
        "--json",
        "earring-vto",
        str(hand),
        str(ring),
        "--left-ear",
        "--occlusion",
        "none",
        "--scale",
        "2.5",
        env=v2_env(sandbox),
    )
    assert result.code == 0, result.stderr
    parameter = list(sandbox.tasks.values())[1].body["object_infos"][0]["parameter"]
    assert parameter["earring_is_right_ear"] is False
    assert parameter["earring_occluded_type"] == 2 and parameter["earring_scale"] == 2.5


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["--finger", "pinky"], 2, "--finger"),
        (["--location", "1.5"], 4, "above the maximum"),
        (["--shadow", "-0.1"], 4, "below the minimum"),
        (["--anchor", "10,20"], 4, "not 2"),
        (["--anchor", "10;20", "--anchor", "1,2"], 4, "X,Y"),
    ],
)
def test_ring_parameters_are_checked_before_upload(sandbox, pictures, args, code, fragment):
    hand, ring = pictures
    result = run_cli("ring-vto", str(hand), str(ring), *args, env=v2_env(sandbox))
    assert result.code == code, result.stderr
    assert fragment in result.stderr
    assert sandbox.requests == []


def test_earring_scale_must_be_positive(sandbox, pictures):
    hand, ring = pictures
    result = run_cli("earring-vto", str(hand), str(ring), "--scale", "0", env=v2_env(sandbox))
    assert result.code == 4 and "--scale" in result.stderr
    assert sandbox.requests == []


def test_missing_credentials_name_what_to_add(sandbox, pictures):
    hand, ring = pictures
    only_v1 = {k: v for k, v in sandbox.env().items() if k != "YCE_API_KEY"}
    result = run_cli("ring-vto", str(hand), str(ring), env=only_v1)
    assert result.code == 3
    assert "API key" in result.stderr and "YCE_API_KEY" in result.stderr
    result = run_cli("enhance", str(hand), env=v2_env(sandbox))
    assert result.code == 3
    assert "client_id" in result.stderr and "YCE_CLIENT_SECRET" in result.stderr


def test_a_wrong_api_key_is_an_auth_error(sandbox, pictures):
    hand, ring = pictures
    env = {**v2_env(sandbox), "YCE_API_KEY": "sk-wrong"}
    result = run_cli("ring-vto", str(hand), str(ring), env=env)
    assert result.code == 3 and "401" in result.stderr


def test_engine_errors_come_with_a_hint(sandbox, pictures):
    hand, ring = pictures
    sandbox.fail_next_task("PHOTO_DETECTION_FAIL", "no hand detected")
    result = run_cli("ring-vto", str(hand), str(ring), env=v2_env(sandbox))
    assert result.code == 6
    assert "PHOTO_DETECTION_FAIL" in result.stderr and "five fingers" in result.stderr
    assert sandbox.charges() == []


@pytest.mark.parametrize("status_field", ["task_status", "status", "both"])
def test_either_status_field_spelling_is_understood(
    paths, pictures, status_field, tmp_path, virtual_clock
):
    hand, ring = pictures
    config = fast_config(v2_status_field=status_field)
    with Sandbox(config=config, clock=sandbox_clock(virtual_clock)) as sandbox:
        with Yce(profile_for(sandbox), paths=paths) as yce:
            [result] = yce.run(
                "ring-vto",
                str(ring),
                extra_inputs={"source": str(hand)},
                output=tmp_path / f"{status_field}.jpg",
            )
        assert result.status == "success"


def test_the_ring_task_path_is_a_profile_setting(paths, pictures, tmp_path, virtual_clock):
    hand, ring = pictures
    config = fast_config(ring_task_path="/s2s/v2.0/task/ring")  # as in 002's curl sample
    with Sandbox(config=config, clock=sandbox_clock(virtual_clock)) as sandbox:
        default = profile_for(sandbox)
        with Yce(default, paths=paths) as yce, pytest.raises(Exception) as info:
            yce.run(
                "ring-vto", str(ring), extra_inputs={"source": str(hand)}, output=tmp_path / "a.jpg"
            )
        assert "404" in str(info.value)
        moved = profile_for(sandbox, ring_task_path="/s2s/v2.0/task/ring")
        with Yce(moved, paths=paths) as yce:
            [result] = yce.run(
                "ring-vto", str(ring), extra_inputs={"source": str(hand)}, output=tmp_path / "b.jpg"
            )
        assert result.status == "success"


def test_a_v2_run_is_never_resent_once_it_may_have_arrived(sandbox, paths, pictures, tmp_path):
    hand, ring = pictures
    sandbox.inject(Fault("drop_response", method="POST", path="/s2s/v2.0/task/"))
    with Yce(profile_for(sandbox), paths=paths) as yce, pytest.raises(NetworkError) as info:
        yce.run(
            "ring-vto", str(ring), extra_inputs={"source": str(hand)}, output=tmp_path / "o.jpg"
        )
    assert "not repeated" in info.value.message
    assert len(sandbox.tasks) == 1  # one task created, none duplicated


def test_url_inputs_are_passed_to_the_api_not_uploaded(sandbox, paths, pictures, tmp_path):
    hand, ring = pictures
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [first] = yce.run("enhance", str(ring), {"scale": 1}, output=tmp_path / "r.png")
        ring_url = first.urls[0]
        uploads_before = len(sandbox.upload_log)
        [result] = yce.run(
            "ring-vto", ring_url, extra_inputs={"source": str(hand)}, output=tmp_path / "o.jpg"
        )
    assert result.status == "success"
    assert len(sandbox.upload_log) == uploads_before + 1  # only the hand
    body = list(sandbox.tasks.values())[-1].body
    assert body["ref_file_urls"] == [ring_url]
    assert body["object_infos"][0]["name"] == ring_url


def test_sandbox_refuses_bodies_that_break_the_002_schema(sandbox):
    import requests

    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    url = sandbox.url + "/s2s/v2.0/task/2d-vto/ring"
    good = {
        "src_file_url": "http://127.0.0.1:9/h.jpg",
        "ref_file_urls": ["http://127.0.0.1:9/r"],
        "source_info": {"name": "http://127.0.0.1:9/h.jpg"},
        "object_infos": [{"name": "http://127.0.0.1:9/r", "parameter": {}}],
    }
    bad = [
        {k: v for k, v in good.items() if k != "source_info"},
        {**good, "object_infos": []},
        {**good, "object_infos": [{"name": "other", "parameter": {}}]},
        {
            **good,
            "object_infos": [
                {"name": good["ref_file_urls"][0], "parameter": {"ring_wearing_finger": 7}}
            ],
        },
        {
            **good,
            "object_infos": [{"name": good["ref_file_urls"][0], "parameter": {"ring_size": 7}}],
        },
        {**good, "src_file_id": "nope"},
    ]
    for body in bad:
        reply = requests.post(url, json=body, headers=headers, timeout=10)
        assert reply.status_code == 400, body
    reply = requests.post(url, json=good, headers={"Authorization": "Bearer nope"}, timeout=10)
    assert reply.status_code == 401
