"""Skin analysis and the face analyzer: bodies as the seed samples, checks before upload,
real runs against the sandbox (ZIP kept, unpacked safely, scores tabulated; analysis
tabulated and written only with -o)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import make_image, profile_for, run_cli
from tests.seeds import seed
from ycecli.api import InputRef, Yce
from ycecli.errors import ApiError, InvalidInput, OutputExists
from ycecli.features import get_feature
from ycecli.features.analysis import FACE_FEATURES, PRESETS, SD_CONCERNS
from ycecli.hooks import HOOKS, HookContext
from ycecli.sandbox.engines import PRODUCERS
from ycecli.sandbox.engines.analysis import check_skin_dst_actions, face_attributes
from ycecli.sandbox.model import Output
from ycecli.sandbox.server import SandboxError
from ycecli.sandbox.skinzip import build_zip_slip

SEED = seed("003_ebfb568487e1b227.txt")  # the extract in tests/seeds/
FILE_ID = "pfNK5PuRe0MrwLHcGA3DOmB1ahwfXTbYHjv+KoBIxbE="

# 003:1693, verbatim.
SKIN_SAMPLE = {
    "request_id": 0,
    "payload": {
        "file_sets": {"src_ids": [FILE_ID]},
        "actions": [
            {
                "id": 0,
                "params": {},
                "dst_actions": ["hd_wrinkle", "hd_pore", "hd_texture", "hd_acne"],
            }
        ],
    },
}
# 003:2141, verbatim.
FACE_SAMPLE = {
    "request_id": 0,
    "payload": {
        "file_sets": {"src_ids": [FILE_ID]},
        "actions": [
            {"id": 0, "params": {"face_angle_strictness_level": "high", "features": ["eyeShape"]}}
        ],
    },
}
# The analysis_result of 003:2263, verbatim.
FACE_RESULT_SAMPLE = json.loads(
    '{"face_quality":{"has_face":true,"area":"good","frontal":"good","lighting":"good",'
    '"faceangle":"good"},"cheekbone":{"left":"Flat Cheekbone","right":"Flat Cheekbone",'
    '"overrall":"Flat Cheekbone"},"eyelid":{"left_eyelid":"Hooded-lid","left_angle":'
    '"Downturned","left_shape":"Narrow","right_eyelid":"Hooded-lid","right_angle":"Downturned",'
    '"right_shape":"Narrow","setting":"Close-set","size":"Big"},"eyebrow":{"gap":"Far-Apart",'
    '"left_shape":"Hard Angled","left_body_thickness":"Dense","left_tail_thickness":"Dense",'
    '"left_thinness":"Thin","left_shortness":"Short","right_shape":"Hard Angled",'
    '"right_body_thickness":"Dense","right_tail_thickness":"Dense","right_thinness":"Thin",'
    '"right_shortness":"Short"},"faceshape":"Triangle","lipshape":["Bow"],"nose":{"width":'
    '"Narrow","length":"Long"},"color":{"eye_color":"string","eye_color_name":"Amber",'
    '"lip_color":"string","eyebrow_color":"string","skin_color":"string","hair_color":'
    '"#a0a0a0","hair_color_name":"Auburn"},"agegender":{"age":0,"gender":"female"}}'
)


def shape(value):
    """Structure and field names, with values reduced to their JSON types."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def seed_sample(line: int):
    """The JSON sample that starts at or after `line` of seed 003 (its `\\` line
    continuations removed)."""
    lines = SEED.lines_from(line)
    index = 0
    while not lines[index].startswith("`{"):
        index += 1
    parts = []
    while True:
        parts.append(lines[index].rstrip("\\"))
        if lines[index].rstrip().endswith("}`"):
            break
        index += 1
    return json.loads("".join(parts).strip("`"))


def prepared(command: str, given: dict) -> dict:
    """Parameters as `Yce.run` has them just before the body is built (no API calls)."""
    from ycecli import hooks

    feature = get_feature(command)
    ctx = HookContext(session=None, feature=feature)
    return hooks.run(feature, "prepare", ctx, feature.resolve_params(given))


def no_uploads(sandbox) -> bool:
    return not any("/file/" in path for _, path in sandbox.requests)


def portrait(path: Path, size=(600, 800)) -> Path:
    """A portrait photo with a gradient, so an overlay visibly differs from it."""
    Image.linear_gradient("L").resize(size).convert("RGB").save(path, format="JPEG")
    return path


# --- bodies --------------------------------------------------------------------------


def test_the_samples_here_are_the_seeds():
    assert seed_sample(1693) == SKIN_SAMPLE
    assert seed_sample(2141) == FACE_SAMPLE
    reply = seed_sample(2263)
    assert reply["result"]["results"][0]["data"][0]["analysis_result"] == FACE_RESULT_SAMPLE


def test_skin_body_equals_the_seed_sample():
    feature = get_feature("skin-analysis")
    for given in ({"preset": "hd-4"}, {"concern": ["hd_wrinkle,hd_pore", "hd_texture", "hd_acne"]}):
        body = feature.build_body(0, {"source": [FILE_ID]}, prepared("skin-analysis", given))
        # dst_actions beside params, and params sent empty (003:1693)
        assert body == SKIN_SAMPLE


def test_face_body_equals_the_seed_sample_and_defaults_to_every_feature():
    feature = get_feature("face-analyze")
    params = prepared("face-analyze", {"feature": ["eyeShape"]})
    assert feature.build_body(0, {"source": [FILE_ID]}, params) == FACE_SAMPLE
    body = feature.build_body(0, {"source": [FILE_ID]}, prepared("face-analyze", {}))
    action = body["payload"]["actions"][0]["params"]
    assert action == {"face_angle_strictness_level": "high", "features": list(FACE_FEATURES)}
    assert len(FACE_FEATURES) == 20


def test_concerns_are_checked_before_anything_else():
    with pytest.raises(InvalidInput, match="exactly 4, 7 or 14"):
        prepared("skin-analysis", {"concern": ["wrinkle", "pore", "acne"]})
    with pytest.raises(InvalidInput, match="cannot be mixed"):
        prepared("skin-analysis", {"concern": ["wrinkle", "pore", "acne", "hd_texture"]})
    with pytest.raises(InvalidInput, match="not both"):
        prepared("skin-analysis", {"preset": "sd-4", "concern": list(PRESETS["sd-4"])})
    with pytest.raises(InvalidInput, match="no skin concerns") as info:
        prepared("skin-analysis", {})
    assert "sd-4" in info.value.hint


def test_the_mode_decides_the_photo_limits():
    feature = get_feature("skin-analysis")
    ctx = HookContext(session=None, feature=feature)
    sd = HOOKS["skin_rules"](ctx, prepared("skin-analysis", {"preset": "sd-7"}), {})["source"]
    hd = HOOKS["skin_rules"](ctx, prepared("skin-analysis", {"preset": "hd-7"}), {})["source"]
    assert (sd.max_long_side, sd.min_short_side) == (1920, 480)
    assert (hd.max_long_side, hd.min_short_side) == (2560, 1080)


# --- help and usage ------------------------------------------------------------------


def test_help_lists_every_option():
    result = run_cli("skin-analysis", "--help")
    assert result.code == 0, result.stderr
    for option in ("--concern", "--preset", "--overlay", "--output", "--overwrite", "sd-4"):
        assert option in result.stdout
    assert "--dst-actions" not in result.stdout  # set from --concern/--preset
    result = run_cli("face-analyze", "--help")
    assert result.code == 0, result.stderr
    for option in ("--feature", "--strictness", "--output", "flexible", "hairColor"):
        assert option in result.stdout


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["--concern", "wrinkle,pore,acne,texture,redness"], 4, "exactly 4, 7 or 14"),
        (["--concern", "wrinkle,pore,acne,hd_texture"], 4, "cannot be mixed"),
        (["--concern", "wrinkel,pore,acne,texture"], 4, "wrinkle"),
        ([], 4, "no skin concerns"),
        (["--preset", "sd-5"], 2, "sd-5"),
        (["--preset", "sd-4", "--concern", "wrinkle"], 4, "not both"),
        # 600x800 is fine for SD but HD wants a short side of 1080
        (["--preset", "hd-4"], 4, "short side under 1080"),
    ],
)
def test_bad_skin_options_fail_before_upload(sandbox_env, tmp_path, args, code, fragment):
    photo = portrait(tmp_path / "face.jpg")
    result = run_cli("skin-analysis", str(photo), *args)
    assert result.code == code, result.stderr
    assert fragment in result.stderr
    assert no_uploads(sandbox_env)


def test_an_sd_photo_too_large_is_refused(sandbox_env, tmp_path):
    photo = portrait(tmp_path / "big.jpg", size=(1200, 2000))
    result = run_cli("skin-analysis", str(photo), "--preset", "sd-4")
    assert result.code == 4 and "long side over 1920" in result.stderr
    assert no_uploads(sandbox_env)


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["--strictness", "extreme"], 2, "extreme"),
        (["--feature", "eyeshape"], 4, "did you mean eyeShape"),
        (["--feature", "age,age"], 4, "repeats"),
    ],
)
def test_bad_face_options_fail_before_upload(sandbox_env, tmp_path, args, code, fragment):
    photo = portrait(tmp_path / "face.jpg")
    result = run_cli("face-analyze", str(photo), *args)
    assert result.code == code, result.stderr
    assert fragment in result.stderr
    assert no_uploads(sandbox_env)


def test_face_analyzer_takes_jpeg_only_and_at_least_100px(sandbox_env, tmp_path):
    png = make_image(tmp_path / "face.png", size=(300, 400), fmt="PNG")
    result = run_cli("face-analyze", str(png))
    assert result.code == 4 and "image/png is not accepted" in result.stderr
    tiny = make_image(tmp_path / "tiny.jpg", size=(90, 120))
    result = run_cli("face-analyze", str(tiny))
    assert result.code == 4 and "short side under 100" in result.stderr
    assert no_uploads(sandbox_env)


# --- skin analysis runs --------------------------------------------------------------


def test_skin_run_keeps_the_zip_unpacks_it_and_tabulates_the_scores(sandbox, paths, tmp_path):
    photo = portrait(tmp_path / "face.jpg")
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [result] = yce.run("skin-analysis", str(photo), {"preset": "sd-4"})
    zip_path = tmp_path / "face_skin-analysis_preset-sd-4.zip"
    folder = tmp_path / "face_skin-analysis_preset-sd-4"
    assert result.files[0] == str(zip_path) and zip_path.is_file()
    [task] = sandbox.tasks.values()
    assert task.body["payload"]["actions"][0] == {
        "id": 0,
        "params": {},
        "dst_actions": ["wrinkle", "pore", "texture", "acne"],
    }
    assert result.dst_ids == []  # the API gives the ZIP no dst_id
    masks = sorted(p.name for p in (folder / "skinanalysisResult").glob("*.png"))
    assert masks == sorted(f"{c}_output.png" for c in PRESETS["sd-4"])
    assert str(folder / "skinanalysisResult" / "score_info.json") in result.files
    # the sandbox writes the doc's key order: wrinkle, acne, pore, texture
    labels = [label for label, _ in result.extra["table"]]
    assert labels == ["wrinkle", "acne", "pore", "texture"]
    scores = result.extra["scores"]
    assert [s["concern"] for s in scores] == labels
    assert all(1 <= s["ui_score"] <= 100 and s["mask"] for s in scores)
    assert (
        result.extra["table"][0][1] == f"{scores[0]['ui_score']} (raw {scores[0]['raw_score']:.1f})"
    )


def test_hd_run_with_overlays_from_the_cli(sandbox_env, tmp_path):
    photo = portrait(tmp_path / "face.jpg", size=(1080, 1440))
    result = run_cli("skin-analysis", str(photo), "--preset", "hd-4", "--overlay", "-o", "out/")
    assert result.code == 0, result.stderr
    # HD areas as their own rows, printed on stdout
    assert "hd_pore.forehead" in result.stdout and "hd_wrinkle.crowfeet" in result.stdout
    overlays = tmp_path / "out" / "face_skin-analysis_preset-hd-4_overlay" / "overlays"
    names = sorted(p.name for p in overlays.iterdir())
    # hd_wrinkle 7 areas + hd_pore 4 + hd_texture + hd_acne, and the contact sheet
    assert len(names) == 14 and "contact_sheet.png" in names
    with Image.open(overlays / "hd_pore_forehead_overlay.png") as img:
        assert img.size == (1080, 1440)
    # every file written is listed on stdout, paths as -o gave them
    # The contact sheet, the picture to open, is the first line.
    lines = result.stdout.splitlines()
    assert lines[0] == "out/face_skin-analysis_preset-hd-4_overlay/overlays/contact_sheet.png"
    assert "out/face_skin-analysis_preset-hd-4_overlay.zip" in lines


def test_an_existing_result_folder_is_refused_before_upload(sandbox, paths, tmp_path):
    photo = portrait(tmp_path / "face.jpg")
    (tmp_path / "face_skin-analysis_preset-sd-4").mkdir()
    with Yce(profile_for(sandbox), paths=paths) as yce:
        with pytest.raises(OutputExists, match="face_skin-analysis"):
            yce.run("skin-analysis", str(photo), {"preset": "sd-4"})
        assert no_uploads(sandbox)
        [result] = yce.run("skin-analysis", str(photo), {"preset": "sd-4"}, overwrite=True)
    folder = tmp_path / "face_skin-analysis_preset-sd-4"
    assert (folder / "skinanalysisResult" / "score_info.json").is_file()
    assert len(result.extra["table"]) == 4


def test_overlay_needs_the_photo_itself(sandbox, paths, tmp_path):
    with (
        Yce(profile_for(sandbox), paths=paths) as yce,
        pytest.raises(InvalidInput, match="--overlay needs the photo"),
    ):
        yce.run("skin-analysis", "id:abc", {"preset": "sd-4", "overlay": True})
    assert no_uploads(sandbox)


def hostile_zip(inputs, params):
    # What a compromised or broken server could send: an entry climbing out with "..".
    return [Output(build_zip_slip("../evil.txt"), "application/zip", dst_id=False)]


def test_a_zip_slip_result_is_refused_and_writes_nothing_outside(
    sandbox, paths, tmp_path, monkeypatch
):
    # The sandbox runs in this process: its producer table is patched for this test.
    monkeypatch.setitem(PRODUCERS, "skin_zip", hostile_zip)
    photo = portrait(tmp_path / "face.jpg")
    before = set(os.listdir(tmp_path))
    with Yce(profile_for(sandbox), paths=paths) as yce:
        with pytest.raises(ApiError, match="climbs out") as info:
            yce.run("skin-analysis", str(photo), {"preset": "sd-4"})
        assert info.value.result.status == "error"
        # Several inputs: the failure is reported in the result, not as a success.
        second = portrait(tmp_path / "other.jpg")
        reports = yce.run(
            "skin-analysis",
            [str(photo), str(second)],
            {"preset": "sd-4"},
            overwrite=True,
            raise_errors=False,
        )
    assert [r.status for r in reports] == ["error", "error"]
    assert all("climbs out" in r.error_message for r in reports)
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()
    assert not (tmp_path / "face_skin-analysis_preset-sd-4").exists()
    new = set(os.listdir(tmp_path)) - before
    # only the downloaded ZIPs (kept, for inspection) and the second photo
    assert new == {
        "face_skin-analysis_preset-sd-4.zip",
        "other.jpg",
        "other_skin-analysis_preset-sd-4.zip",
    }


def test_the_sandbox_answers_bad_dst_actions_with_the_documented_messages(sandbox, paths, tmp_path):
    feature = get_feature("skin-analysis")

    def check(names):
        body = {"payload": {"actions": [{"id": 0, "params": {}, "dst_actions": names}]}}
        with pytest.raises(SandboxError) as info:
            check_skin_dst_actions(feature, body)
        return info.value

    error = check(["wrinkle", "pore", "acne", "texture", "redness"])
    assert (error.status, error.error) == (400, "must select 4, 7 or 14 distinct dst_actions")
    assert error.error_code == "InvalidParameters"
    assert check(["wrinkle", "wrinkle", "acne", "texture"]).error.startswith("must select")
    assert (
        check(["wrinkle", "pore", "acne", "hd_texture"]).error == "cannot mix HD and SD dst_actions"
    )
    assert check(["wrinkle", "pore", "acne", "abc123"]).error == "Not available dst_action abc123"

    # And over the wire, as a client that skipped yce's checks would meet them.
    photo = portrait(tmp_path / "face.jpg")
    with Yce(profile_for(sandbox), paths=paths) as yce:
        ref = InputRef(str(photo), path=photo)
        file_id = yce.upload(feature, feature.inputs[0], ref)
        for names, message in (
            (list(SD_CONCERNS[:5]), "must select 4, 7 or 14 distinct dst_actions"),
            (["wrinkle", "pore", "acne", "hd_texture"], "cannot mix HD and SD dst_actions"),
            (["wrinkle", "pore", "acne", "abc123"], "Not available dst_action abc123"),
        ):
            body = feature.build_body(7, {"source": [file_id]}, {"dst_actions": names})
            with pytest.raises(ApiError) as info:
                yce.client.call("POST", feature.task_url_path, json_body=body)
            assert info.value.http_status == 400 and info.value.error == message


# --- face analyzer runs ---------------------------------------------------------------


def test_face_run_tabulates_and_writes_nothing_without_o(sandbox, paths, tmp_path):
    photo = portrait(tmp_path / "face.jpg")
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [result] = yce.run("face-analyze", str(photo))
    assert result.files == [] and sorted(os.listdir(tmp_path)) == ["face.jpg", "home"]
    analysis = result.extra["analysis"]
    # all 20 features asked: the answer has the shape of the doc's sample
    assert shape(analysis) == shape(FACE_RESULT_SAMPLE)
    rows = dict(result.extra["table"])
    assert rows["eyebrow.left_shape"] == analysis["eyebrow"]["left_shape"]
    assert rows["face_quality.has_face"] == "true"
    assert rows["lipshape"] == analysis["lipshape"][0]
    assert rows["color.hair_color"].startswith("#")


def test_face_run_writes_the_json_with_o_and_respects_existing_files(sandbox, paths, tmp_path):
    photo = portrait(tmp_path / "face.jpg")
    target = tmp_path / "analysis.json"
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [result] = yce.run(
            "face-analyze", str(photo), {"feature": ["faceShape", "age"]}, output=target
        )
        assert result.files == [str(target)]
        written = json.loads(target.read_text())
        assert written == result.extra["analysis"]
        assert set(written) == {"face_quality", "faceshape", "agegender"}
        assert set(written["agegender"]) == {"age"}
        with pytest.raises(OutputExists):
            yce.run("face-analyze", str(photo), output=target)
        assert json.loads(target.read_text()) == written
        [result] = yce.run("face-analyze", str(photo), output=target, overwrite=True)
    # every feature this time: all the sample's keys
    assert list(json.loads(target.read_text())) == list(FACE_RESULT_SAMPLE)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_face_cli_prints_the_table_and_json_mode_carries_the_analysis(sandbox_env, tmp_path):
    photo = portrait(tmp_path / "face.jpg")
    result = run_cli("face-analyze", str(photo), "--feature", "eyebrowShape,noseWidth")
    assert result.code == 0, result.stderr
    assert "eyebrow.left_shape" in result.stdout and "nose.width" in result.stdout
    result = run_cli("--json", "face-analyze", str(photo), "--strictness", "low")
    assert result.code == 0, result.stderr
    [obj] = result.json_lines()
    # the analysis once, as the API gave it: neither repeated in extra nor as table rows
    assert shape(obj["data"][0]["analysis_result"]) == shape(FACE_RESULT_SAMPLE)
    assert "analysis" not in obj["extra"] and "table" not in obj["extra"]
    [*_, task] = sandbox_env.tasks.values()
    assert task.body["payload"]["actions"][0]["params"]["face_angle_strictness_level"] == "low"


def test_the_sandbox_analysis_depends_on_the_photo_only():
    import io

    def analyse(size, colour):
        out = io.BytesIO()
        Image.new("RGB", size, colour).save(out, format="JPEG")
        data = out.getvalue()
        params = {"features": list(FACE_FEATURES)}
        [entry] = face_attributes({"source": [(data, "image/jpeg")]}, params)
        return entry.fields["analysis_result"]

    first = analyse((300, 400), (200, 150, 120))
    assert first == analyse((300, 400), (200, 150, 120))
    other = analyse((300, 400), (20, 40, 60))
    # colours are measured from the pixels (JPEG may shift a flat colour by a unit)
    red, green, blue = (int(first["color"]["skin_color"][i : i + 2], 16) for i in (1, 3, 5))
    assert abs(red - 200) <= 3 and abs(green - 150) <= 3 and abs(blue - 120) <= 3
    assert other["color"]["skin_color"] != first["color"]["skin_color"]
