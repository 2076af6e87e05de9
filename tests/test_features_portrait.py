"""Portrait features: makeup transfer, face swap (with its detection task), and the
style generators headshot, avatar and studio, against the sandbox over real sockets."""

import json
import re
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import make_image, profile_for, run_cli
from tests.seeds import seed
from ycecli.api import Yce
from ycecli.errors import InvalidInput, TaskFailed
from ycecli.features import get_feature
from ycecli.sandbox.server import SandboxError, check_run_body
from ycecli.sandbox.styles import CATALOG

SEED = seed("003_ebfb568487e1b227.txt")  # the extract in tests/seeds/
SRC = "pfNK5PuRe0MrwLHcGA3DOmB1ahwfXTbYHjv+KoBIxbE="
REF = "ligsPdfZTgNrbXnAOsPMFCiKyqGEJWl7SkYBBv6mHUac8ywz/bnMOrhVtlbo86Mc"

# The seed's request samples, verbatim (keys in the seed's order).
MAKEUP_SAMPLE = {  # 003:13193
    "request_id": 0,
    "payload": {"file_sets": {"src_ids": [SRC], "ref_ids": [REF]}, "actions": [{"id": 0}]},
}
DETECT_SAMPLE = {  # 003:13646
    "request_id": 0,
    "payload": {"file_sets": {"src_ids": [SRC]}, "actions": [{"id": 0}]},
}
SWAP_SAMPLE = {  # 003:13863
    "request_id": 0,
    "payload": {
        "file_sets": {"src_ids": [SRC], "ref_ids": [REF]},
        "actions": [{"id": 0, "params": {"face_mapping": [{"index": 0, "position": 0}]}}],
    },
}
STYLE_SAMPLE = {  # 003:14625, 003:15374 and 003:16138 are identical
    "request_id": 0,
    "payload": {
        "actions": [
            {
                "id": 0,
                "params": {"style_group_id": 18213963761051864, "style_ids": [22205685004925400]},
            }
        ],
        "custom": {"output_count": 20},
        "file_sets": {"src_ids": ["string"]},
    },
}
STYLE_COMMANDS = ("headshot", "avatar", "studio")


def no_uploads(sandbox) -> bool:
    return not any(p.startswith("/s2s/v1.1/file/") for _, p in sandbox.requests)


def tasks_of(sandbox, slug):
    return [t for t in sandbox.tasks.values() if t.feature.slug == slug]


def close(pixel, color, tolerance=40):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, color, strict=True))


# -- request bodies against the seed ----------------------------------------------------


def test_makeup_transfer_body_equals_the_seed_sample():
    feature = get_feature("makeup-transfer")
    body = feature.build_body(0, {"source": [SRC], "ref": [REF]}, feature.resolve_params({}))
    assert body == MAKEUP_SAMPLE  # no `params` key at all, as in the seed


def test_face_swap_and_detection_bodies_equal_the_seed_samples():
    detect = get_feature("face-swap-detect")
    assert detect.slug == "face-swap/pre-process" and detect.hidden
    assert detect.task_url_path == "/s2s/v1.0/task/face-swap/pre-process"
    assert detect.build_body(0, {"source": [SRC]}, detect.resolve_params({})) == DETECT_SAMPLE
    swap = get_feature("face-swap")
    params = swap.resolve_params({"face_mapping": [{"index": 0, "position": 0}]})
    params["detect_only"] = None  # CLI-only options never reach the body
    params["face_map"] = ["0:0"]
    assert swap.build_body(0, {"source": [SRC], "ref": [REF]}, params) == SWAP_SAMPLE


@pytest.mark.parametrize("command", STYLE_COMMANDS)
def test_style_bodies_equal_the_seed_sample(command):
    feature = get_feature(command)
    params = feature.resolve_params(
        {"style_group_id": 18213963761051864, "style_ids": "22205685004925400", "output_count": 20}
    )
    body = feature.build_body(0, {"source": ["string"]}, params)
    assert body == STYLE_SAMPLE
    # The ids are above 2**53: still exact ints, never floats.
    assert json.loads(json.dumps(body)) == STYLE_SAMPLE


def test_the_samples_are_really_in_the_seed():
    compact = re.sub(r"[\s\\]", "", SEED.text)
    for sample, times in ((MAKEUP_SAMPLE, 1), (DETECT_SAMPLE, 1), (SWAP_SAMPLE, 1)):
        text = json.dumps(sample, separators=(",", ":"))
        assert compact.count(text) >= times, text
    assert compact.count(json.dumps(STYLE_SAMPLE, separators=(",", ":"))) == 3


# -- help ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command, flags",
    [
        ("makeup-transfer", ["--ref"]),
        ("face-swap", ["--ref", "--map", "--detect-only"]),
        ("headshot", ["--style", "--style-group", "--count"]),
        ("avatar", ["--style", "--style-group", "--count"]),
        ("studio", ["--style", "--style-group", "--count"]),
    ],
)
def test_help_lists_every_option(command, flags):
    result = run_cli(command, "--help")
    assert result.code == 0, result.stderr
    for flag in [*flags, "--output", "--overwrite", "--timeout"]:
        assert flag in result.stdout, flag


def test_the_detection_step_is_no_command_of_its_own():
    assert "face-swap-detect" not in run_cli("--help").stdout
    assert run_cli("face-swap-detect", "x.jpg").code == 2


# -- bad values: refused before anything is uploaded ----------------------------------------


@pytest.fixture
def photos(tmp_path):
    return {
        "face": make_image(tmp_path / "face.jpg", size=(120, 100)),
        "wide": make_image(tmp_path / "wide.jpg", size=(250, 100)),  # two sandbox faces
        "ref": make_image(tmp_path / "ref.jpg", size=(60, 60)),
        "ref2": make_image(tmp_path / "ref2.png", size=(60, 60), fmt="PNG"),
        "png": make_image(tmp_path / "portrait.png", size=(120, 100), fmt="PNG"),
        "big": make_image(tmp_path / "big.jpg", size=(1100, 500)),
        "tiny": make_image(tmp_path / "tiny.jpg", size=(300, 150)),
        "tall": make_image(tmp_path / "tall.jpg", size=(400, 2000)),
    }


def style_id(command, n=0):
    return str(CATALOG.feature(get_feature(command).slug).groups[0].styles[n].id)


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["makeup-transfer", "face", "--ref", "big"], 4, "long side over 1024"),
        (["makeup-transfer", "big", "--ref", "ref"], 4, "long side over 1024"),
        (["makeup-transfer", "face"], 4, "--ref is required"),
        (["face-swap", "face"], 4, "--ref is required"),
        (["face-swap", "face", "--ref", "ref", "--map", "1:0"], 4, "only 1 --ref"),
        (["face-swap", "face", "--ref", "ref", "--map", "zero:one"], 4, "not REF:FACE"),
        (["face-swap", "wide", "--ref", "ref", "--ref", "ref2"], 4, "no --map"),
        (
            ["face-swap", "wide", "--ref", "ref", "--ref", "ref2", "--map", "0:0,1:0"],
            4,
            "face 0 is mapped more than once",
        ),
        (["headshot", "png", "--style", "S0"], 4, "format image/png is not accepted"),
        (["headshot", "face"], 4, "--style is required"),
        (["headshot", "face", "--style", "S0", "--count", "0"], 4, "below the minimum 1"),
        (["avatar", "face", "--style", "S0", "--count", "201"], 4, "above the maximum 200"),
        (["avatar", "face", "--style", "S0,S1", "--count", "1"], 4, "2 styles but --count 1"),
        (["studio", "face", "--style", "S0", "--count", "two"], 2, "two"),
        (["studio", "tiny", "--style", "S0"], 4, "short side under 200"),
        (["studio", "tall", "--style", "S0"], 4, "long side over 1920"),
    ],
)
def test_bad_values_are_refused_before_any_upload(sandbox_env, photos, args, code, fragment):
    command = args[0]
    argv = []
    for arg in args:
        if arg in photos:
            arg = str(photos[arg])
        elif re.fullmatch(r"(S\d,?)+", arg):
            arg = ",".join(style_id(command, int(s[1:])) for s in arg.split(","))
        argv.append(arg)
    result = run_cli(*argv)
    assert result.code == code, result.stderr
    assert fragment in result.stderr
    assert no_uploads(sandbox_env)
    assert not sandbox_env.tasks


def test_sandbox_refuses_bodies_that_break_the_cross_field_rules():
    swap = get_feature("face-swap")

    def swap_body(refs, mapping):
        file_sets = {"src_ids": ["s"], **({"ref_ids": refs} if refs else {})}
        action = {"id": 0, "params": {"face_mapping": mapping}}
        return {"request_id": 1, "payload": {"file_sets": file_sets, "actions": [action]}}

    check_run_body(swap, swap_body(["r"], [{"index": 0, "position": 1}]), lambda f: True)
    for refs, mapping in (
        ([], [{"index": 0, "position": 0}]),  # ref_ids is required
        (["r"], [{"index": 1, "position": 0}]),  # no second reference
        (["r", "q"], [{"index": 0, "position": 0}, {"index": 1, "position": 0}]),
        (["r"], []),
        (["r"], [{"index": 0}]),
    ):
        with pytest.raises(SandboxError):
            check_run_body(swap, swap_body(refs, mapping), lambda f: True)

    headshot = get_feature("headshot")
    group = CATALOG.feature("headshot").groups[0]
    body = headshot.build_body(
        1,
        {"source": ["s"]},
        {
            "style_group_id": group.id,
            "style_ids": [group.styles[0].id, group.styles[1].id],
            "output_count": 2,
        },
    )
    check_run_body(headshot, body, lambda f: True)
    body["payload"]["custom"]["output_count"] = 1
    with pytest.raises(SandboxError, match="more than custom.output_count"):
        check_run_body(headshot, body, lambda f: True)


# -- real runs ----------------------------------------------------------------------------


def test_makeup_transfer_blends_the_look_onto_the_photo(sandbox, paths, photos, tmp_path):
    look = tmp_path / "look.png"
    Image.new("RGB", (80, 80), (0, 220, 0)).save(look)
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [result] = yce.run(
            "makeup-transfer",
            str(photos["face"]),
            extra_inputs={"ref": str(look)},
            output=f"{tmp_path}/out/",
        )
    assert result.files == [str(tmp_path / "out" / "face_makeup-transfer_ref-look.jpg")]
    image = Image.open(result.files[0])
    assert image.size == (120, 100) and image.format == "JPEG"
    red, green, _ = image.getpixel((60, 50))
    assert red < 120 and green > 30  # the purple photo, a third of the way to green
    [task] = tasks_of(sandbox, "mu-transfer")
    assert "params" not in task.body["payload"]["actions"][0]


def test_makeup_engine_errors_come_with_their_own_hint(sandbox, paths, photos, tmp_path):
    sandbox.fail_next_task("error_ref_eye_closed", "Eye is closed in the reference image")
    with Yce(profile_for(sandbox), paths=paths) as yce, pytest.raises(TaskFailed) as info:
        yce.run("makeup-transfer", str(photos["face"]), extra_inputs={"ref": str(photos["ref"])})
    assert info.value.error == "error_ref_eye_closed"
    assert "--ref photo" in info.value.hint


def test_face_swap_detects_then_swaps_the_only_face(sandbox_env, photos, tmp_path):
    target = tmp_path / "target.jpg"
    Image.new("RGB", (120, 100), (200, 40, 40)).save(target)
    ref = tmp_path / "green.jpg"
    Image.new("RGB", (60, 60), (0, 200, 0)).save(ref)
    result = run_cli("--json", "face-swap", str(target), "--ref", str(ref))
    assert result.code == 0, result.stderr
    [obj] = result.json_lines()
    assert obj["files"] == [str(tmp_path / "target_face-swap_ref-green.jpg")]
    assert obj["extra"]["faces"] == [
        {"index": 0, "box": [35, 25, 50, 50], "bbox": [[35, 25, 50, 50]]}
    ]
    assert obj["extra"]["face_mapping"] == [{"index": 0, "position": 0}]
    assert "1 face(s): face 0: box 35,25,50,50" in result.stderr
    swapped = Image.open(obj["files"][0]).convert("RGB")
    assert close(swapped.getpixel((60, 50)), (0, 200, 0))  # the reference, on the face
    assert close(swapped.getpixel((5, 5)), (200, 40, 40))  # the rest untouched
    # Two tasks, each with its own request_id, both journaled and finished.
    [detect] = tasks_of(sandbox_env, "face-swap/pre-process")
    [swap] = tasks_of(sandbox_env, "face-swap")
    assert detect.request_id != swap.request_id
    assert (
        detect.body["payload"]["file_sets"]["src_ids"]
        == swap.body["payload"]["file_sets"]["src_ids"]
    )
    assert obj["extra"]["detection_task_id"] == detect.task_id
    journal = run_cli("--json", "task", "list").json_lines()
    assert sorted((r["feature"], r["state"]) for r in journal) == [
        ("face-swap", "done"),
        ("face-swap-detect", "done"),
    ]
    assert len(sandbox_env.upload_log) == 2  # the target once, the reference once


def test_face_swap_maps_references_to_faces(sandbox, paths, photos, tmp_path):
    target = tmp_path / "pair.jpg"
    Image.new("RGB", (250, 100), (200, 40, 40)).save(target)
    green, blue = tmp_path / "green.jpg", tmp_path / "blue.jpg"
    Image.new("RGB", (60, 60), (0, 200, 0)).save(green)
    Image.new("RGB", (60, 60), (0, 0, 220)).save(blue)
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [result] = yce.run(
            "face-swap",
            str(target),
            {"face_map": ["0:1", "1:0"]},
            extra_inputs={"ref": [str(green), str(blue)]},
            output=tmp_path / "swapped.jpg",
        )
    assert [f["box"] for f in result.extra["faces"]] == [[37, 25, 50, 50], [162, 25, 50, 50]]
    [swap] = tasks_of(sandbox, "face-swap")
    assert swap.body["payload"]["actions"][0]["params"]["face_mapping"] == [
        {"index": 0, "position": 1},
        {"index": 1, "position": 0},
    ]
    swapped = Image.open(result.files[0]).convert("RGB")
    assert close(swapped.getpixel((62, 50)), (0, 0, 220))  # face 0 got reference 1
    assert close(swapped.getpixel((187, 50)), (0, 200, 0))  # face 1 got reference 0


@pytest.mark.parametrize(
    "params, refs, fragment",
    [
        ({}, ["ref"], "has 2 faces (face 0: box 37,25,50,50; face 1: box 162,25,50,50)"),
        ({"face_map": ["0:2"]}, ["ref"], "names face 2, but"),
    ],
)
def test_face_swap_refuses_a_mapping_the_faces_do_not_fit(
    sandbox, paths, photos, tmp_path, params, refs, fragment
):
    with Yce(profile_for(sandbox), paths=paths) as yce, pytest.raises(InvalidInput) as info:
        yce.run(
            "face-swap",
            str(photos["wide"]),
            params,
            extra_inputs={"ref": [str(photos[r]) for r in refs]},
            output=tmp_path / "o.jpg",
        )
    assert fragment in info.value.message and "--map REF:FACE" in info.value.hint
    assert len(tasks_of(sandbox, "face-swap/pre-process")) == 1
    assert tasks_of(sandbox, "face-swap") == []  # no swap task, no units spent on it
    assert not (tmp_path / "o.jpg").exists()


def test_a_failed_detection_stops_before_the_swap(sandbox, paths, photos, tmp_path):
    sandbox.fail_next_task("error_no_face", "No face detected")
    with Yce(profile_for(sandbox), paths=paths) as yce, pytest.raises(TaskFailed) as info:
        yce.run("face-swap", str(photos["face"]), extra_inputs={"ref": str(photos["ref"])})
    assert info.value.error == "error_no_face"
    assert "target photo" in info.value.hint
    assert tasks_of(sandbox, "face-swap") == []
    assert sandbox.charges() == []


def near(pixel, colour, tolerance=60):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=False))


def test_detect_only_draws_the_faces_numbered_as_map_takes_them(sandbox_env, photos):
    from ycecli.pictures import MARKERS

    result = run_cli("face-swap", str(photos["wide"]), "--ref", str(photos["ref"]), "--detect-only")
    assert result.code == 0, result.stderr
    listing = "face 0: box 37,25,50,50; face 1: box 162,25,50,50"
    assert listing in result.stderr
    picture = Path("wide_faces.jpg").absolute()
    # The picture's path first, on its own line, then the faces' boxes.
    assert result.stdout.splitlines() == [
        str(picture),
        "face 0  37,25,50,50",
        "face 1  162,25,50,50",
    ]
    assert len(tasks_of(sandbox_env, "face-swap/pre-process")) == 1
    assert tasks_of(sandbox_env, "face-swap") == []
    assert len(sandbox_env.upload_log) == 1  # the reference is not needed, so not sent
    assert not Path("wide_face-swap.jpg").exists()

    with Image.open(picture) as img:
        img = img.convert("RGB")
        scale = 1200 / 250  # drawn large enough to read, the photo's shape kept
        assert img.width == 1200 and img.height > 100 * scale
        for index, (x, y) in enumerate([(37, 25), (162, 25)]):
            left, top = round(x * scale), round(y * scale)
            # Each face framed in its own colour, its number on a tag of that colour
            # just above the frame.
            assert near(img.getpixel((left + 1, top + 120)), MARKERS[index])
            tag = [img.getpixel((left + dx, top - 6)) for dx in range(2, 40)]
            assert sum(near(p, MARKERS[index]) for p in tag) > 20
            # ... with white digits on it.
            digits = [
                img.getpixel((left + dx, top - dy)) for dx in range(4, 40) for dy in range(8, 40)
            ]
            assert any(min(p) > 200 for p in digits)
        # Below the photo, the reference (make_image paints it 120,30,200), labelled.
        below = img.crop((0, round(100 * scale), img.width, img.height))
        grid = [(x, y) for x in range(0, below.width, 4) for y in range(0, below.height, 4)]
        assert any(near(below.getpixel(xy), (120, 30, 200), 30) for xy in grid)


def test_detect_only_ignores_the_swap_output_but_keeps_its_own_picture(sandbox_env, photos):
    Path("face_face-swap.jpg").write_bytes(b"an earlier swap")
    result = run_cli("face-swap", str(photos["face"]), "--detect-only")
    assert result.code == 0, result.stderr  # the swap's file is not written: no refusal
    assert Path("face_face-swap.jpg").read_bytes() == b"an earlier swap"
    picture = Path("face_faces.jpg").absolute()
    assert result.stdout.splitlines()[0] == str(picture)
    with Image.open(picture) as img:
        assert img.size[0] == 1200

    # The numbered picture is a file it does write: replaced only when asked.
    again = run_cli("face-swap", str(photos["face"]), "--detect-only")
    assert again.code == 4 and f"{picture} already exists" in again.stderr
    assert len(tasks_of(sandbox_env, "face-swap/pre-process")) == 1  # refused before any task
    again = run_cli("face-swap", str(photos["face"]), "--detect-only", "--overwrite")
    assert again.code == 0, again.stderr
    assert again.stdout.splitlines()[0] == str(picture)


def test_detect_only_writes_its_picture_where_o_says(sandbox_env, photos, tmp_path):
    target = tmp_path / "numbered.png"
    result = run_cli("face-swap", str(photos["wide"]), "--detect-only", "-o", str(target))
    assert result.code == 0, result.stderr
    with Image.open(target) as img:
        assert img.format == "PNG" and img.width == 1200


def test_headshot_writes_one_file_per_generated_image(sandbox, paths, photos, tmp_path):
    group = CATALOG.feature("headshot").groups[0]
    styles = [group.styles[0].id, group.styles[1].id]
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [result] = yce.run(
            "headshot",
            str(photos["face"]),
            {"style_ids": styles, "output_count": 3},
            output=str(tmp_path / "shots") + "/",
        )
    name = "face_headshot_style-" + "-".join(map(str, styles)) + "_count-3"
    base = tmp_path / "shots"
    assert result.files == [
        str(base / f"{name}.jpg"),
        str(base / f"{name}_2.jpg"),
        str(base / f"{name}_3.jpg"),
    ]
    images = [Image.open(f) for f in result.files]
    assert all(i.size == (120, 100) and i.format == "JPEG" for i in images)
    assert images[0].getpixel((5, 5)) != images[1].getpixel((5, 5))  # two styles
    [task] = tasks_of(sandbox, "headshot")
    params = task.body["payload"]["actions"][0]["params"]
    assert params == {"style_group_id": group.id, "style_ids": styles}  # group looked up
    assert task.body["payload"]["custom"] == {"output_count": 3}


def test_avatar_count_defaults_to_one_image_per_style(sandbox_env, photos, tmp_path):
    style = style_id("avatar")
    result = run_cli("--json", "avatar", str(photos["face"]), "--style", style)
    assert result.code == 0, result.stderr
    [obj] = result.json_lines()
    assert obj["files"] == [str(tmp_path / f"face_avatar_style-{style}.jpg")]
    [task] = tasks_of(sandbox_env, "ai-avatar")
    assert task.body["payload"]["custom"] == {"output_count": 1}


def test_studio_output_fits_960_by_1280(sandbox, paths, tmp_path):
    photo = make_image(tmp_path / "tall.jpg", size=(600, 1800))
    group = CATALOG.feature("ai-studio").groups[1]
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [result] = yce.run(
            "studio",
            str(photo),
            {"style_ids": [group.styles[0].id], "output_count": 2},
            output=tmp_path / "studio.jpg",
        )
    assert result.files == [str(tmp_path / "studio.jpg"), str(tmp_path / "studio_2.jpg")]
    for path in result.files:
        width, height = Image.open(path).size
        assert width <= 960 and height <= 1280 and height == 1280
