"""The image-editing features of 003 (bg-remove ... obj-remove): request bodies as in
the seed's samples, options in --help, checks before upload, and real runs against
the sandbox over sockets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.conftest import profile_for, run_cli
from tests.seeds import seed
from ycecli import hooks
from ycecli.api import InputRef, Job, Yce
from ycecli.errors import InvalidInput, OutputExists, TaskFailed
from ycecli.features import get_feature
from ycecli.hooks.image import check_out_paint, extend_params, extend_prepare
from ycecli.sandbox.styles import CATALOG
from ycecli.validate import MediaInfo

SEED = seed("003_ebfb568487e1b227.txt")  # the extract in tests/seeds/
SRC = "pfNK5PuRe0MrwLHcGA3DOmB1ahwfXTbYHjv+KoBIxbE="
ONE_SOURCE = {"request_id": 0, "payload": {"file_sets": {"src_ids": [SRC]}, "actions": [{"id": 0}]}}

# The run-task request samples of 003, verbatim (each checked against the seed below).
SAMPLES = {
    # 003:9032 (sod), 9478 (colorize), 11399 (color-correct), 12328 (change-background),
    # 12787 (blur-background): the same body, only the path differs.
    "bg-remove": (9032, ONE_SOURCE),
    "colorize": (9478, ONE_SOURCE),
    "color-correct": (11399, ONE_SOURCE),
    "bg-change": (12328, ONE_SOURCE),
    "bg-blur": (12787, ONE_SOURCE),
    "lighting": (
        10941,
        {
            "request_id": 0,
            "payload": {"file_sets": {"src_ids": [SRC]}, "actions": [{"id": 0, "params": {}}]},
        },
    ),
    "generate": (
        10000,
        {
            "request_id": 0,
            "payload": {
                "actions": [
                    {
                        "id": 0,
                        "params": {
                            "prompt": "A little cat",
                            "negative_prompt": "dog",
                            "style_group_id": 18213963761051864,
                            "style_ids": [22205685004925400],
                            "steps": 10,
                            "cfg_scale": 4,
                            "seed": [3843718472198472],
                            "width_ratio": 3,
                            "height_ratio": 4,
                        },
                    }
                ]
            },
        },
    ),
    "extend": (
        10472,
        {
            "request_id": 0,
            "payload": {
                "file_sets": {"src_ids": [SRC]},
                "actions": [
                    {
                        "id": 0,
                        "params": {
                            "output_width": 960,
                            "output_height": 1280,
                            "input_x": 240,
                            "input_y": 320,
                            "input_width": 480,
                            "input_height": 640,
                            "crop_input_x": 0,
                            "crop_input_y": 0,
                            "crop_input_width": 480,
                            "crop_input_height": 640,
                        },
                    }
                ],
            },
        },
    ),
    "replace": (
        11865,
        {
            "request_id": 0,
            "payload": {
                "file_sets": {
                    "src_ids": [SRC],
                    "msk_ids": ["g1tyvBDXW7kx8lg2hh5i2MP2GfB3pUeBdC3JTOrYOW5kR+52vpZpLmOG1d5gfBWm"],
                },
                "actions": [{"id": 0, "params": {"prompt": "a cute cate"}}],  # sic
            },
        },
    ),
    "obj-remove": (
        8100,
        {
            "request_id": 0,
            "payload": {
                "file_sets": {
                    "src_ids": [SRC],
                    "mask_ids": ["eA1CCL3kG4w2s0kpbo2pkah59VfxzIjxahJD2wWm7zw="],
                },
                "actions": [{"id": 0}],
            },
        },
    ),
}
COMMANDS = sorted(SAMPLES)


def seed_sample(line: int) -> dict:
    """The JSON request sample that starts at `line` of seed 003 (1-based), with the
    scrape's backslash continuations removed."""
    lines = SEED.lines_from(line - 1)
    start = next(i for i, text in enumerate(lines) if text.startswith("`{"))
    end = next(i for i in range(start, len(lines)) if lines[i].endswith("}`"))
    text = "\n".join(lines[start : end + 1])[1:-1]
    return json.loads(text.replace("\\\n", "").replace("\n", ""))


@pytest.mark.parametrize("command", COMMANDS)
def test_the_samples_here_are_the_seeds(command):
    line, sample = SAMPLES[command]
    assert seed_sample(line) == sample


def ctx_for(command: str, **kw) -> hooks.HookContext:
    notes: list[str] = []
    ctx = hooks.HookContext(None, get_feature(command), lambda e: notes.append(e.message), **kw)
    ctx.state["notes"] = notes
    return ctx


def local_ref(text: str, size: tuple[int, int], content_type: str = "image/jpeg") -> InputRef:
    info = MediaInfo(Path(text), content_type, 1000, *size)
    return InputRef(text, path=Path(text), info=info)


def body_for(command: str, params: dict, refs: dict | None = None, ids: dict | None = None):
    """The body yce sends: parameters resolved, the prepare and job_params hooks run."""
    feature = get_feature(command)
    ctx = ctx_for(command)
    resolved = hooks.run(feature, "prepare", ctx, feature.resolve_params(params))
    job = Job("photo.jpg", refs or {}, None, False)
    resolved = hooks.run(feature, "job_params", ctx, job, dict(resolved))
    feature.check_required(resolved)
    ids = ids if ids is not None else ({"source": [SRC]} if feature.primary_input else {})
    return feature.build_body(0, ids, resolved)


@pytest.mark.parametrize("command", ["bg-remove", "colorize", "color-correct", "bg-change"])
def test_bodies_without_params_equal_the_samples(command):
    # No params key at all (action_params=False), as each sample has.
    assert body_for(command, {}) == SAMPLES[command][1]


def test_bg_blur_and_lighting_bodies_equal_the_samples():
    assert body_for("bg-blur", {}) == SAMPLES["bg-blur"][1]
    # lighting alone carries "params": {} (003:10941).
    assert body_for("lighting", {}) == SAMPLES["lighting"][1]


def test_bg_change_and_blur_local_options_never_reach_the_body():
    assert body_for("bg-change", {"background": "white"}) == SAMPLES["bg-change"][1]
    assert body_for("bg-blur", {"blur": 8}) == SAMPLES["bg-blur"][1]


def test_generate_body_equals_the_sample_with_ratio_as_w_colon_h():
    params = {
        "prompt": "A little cat",
        "negative_prompt": "dog",
        "style_group_id": 18213963761051864,
        "style_ids": "22205685004925400",
        "steps": 10,
        "cfg_scale": 4,
        "seed": "3843718472198472",
        "ratio": "3:4",
    }
    body = body_for("generate", params)
    assert body == SAMPLES["generate"][1]  # 4.0 == 4: the same JSON number
    assert "file_sets" not in body["payload"]
    # ids beyond 2**53 stay exact ints all the way into the JSON text
    assert "22205685004925400" in json.dumps(body) and "3843718472198472" in json.dumps(body)


def test_extend_body_equals_the_sample_from_a_canvas_and_from_raw_values():
    source = {"source": [local_ref("photo.jpg", (480, 640))]}
    sample = SAMPLES["extend"][1]
    assert body_for("extend", {"canvas": "960x1280"}, source) == sample
    raw = sample["payload"]["actions"][0]["params"]
    assert body_for("extend", dict(raw), source) == sample
    # An id: input has no known size: all ten raw values are enough.
    unknown = {"source": [InputRef("id:abc", file_id="abc")]}
    assert body_for("extend", dict(raw), unknown) == sample


def test_replace_and_obj_remove_bodies_equal_the_samples():
    replace_ids = {
        "source": [SRC],
        "mask": SAMPLES["replace"][1]["payload"]["file_sets"]["msk_ids"],
    }
    assert body_for("replace", {"prompt": "a cute cate"}, ids=replace_ids) == SAMPLES["replace"][1]
    remove_ids = {
        "source": [SRC],
        "mask": SAMPLES["obj-remove"][1]["payload"]["file_sets"]["mask_ids"],
    }
    assert body_for("obj-remove", {}, ids=remove_ids) == SAMPLES["obj-remove"][1]


# -- extend: the ten integers ------------------------------------------------------------


def extend_values(size, **params):
    ctx = ctx_for("extend")
    feature = get_feature("extend")
    resolved = extend_prepare(ctx, feature.resolve_params(params))
    job = Job("photo.jpg", {"source": [local_ref("photo.jpg", size)]}, None, False)
    out = extend_params(ctx, job, resolved)
    return {k: out[k] for k in SAMPLES["extend"][1]["payload"]["actions"][0]["params"]}, ctx


@pytest.mark.parametrize(
    "position, x, y",
    [
        ("center", 100, 50),
        ("top", 100, 0),
        ("bottom", 100, 100),
        ("left", 0, 50),
        ("right", 200, 50),
        ("top-left", 0, 0),
        ("top-right", 200, 0),
        ("bottom-left", 0, 100),
        ("bottom-right", 200, 100),
    ],
)
def test_extend_positions_place_the_photo_on_the_canvas(position, x, y):
    values, _ = extend_values((400, 300), canvas="600x400", position=position)
    assert (values["input_x"], values["input_y"]) == (x, y)
    assert (values["output_width"], values["output_height"]) == (600, 400)
    assert (values["input_width"], values["input_height"]) == (400, 300)


@pytest.mark.parametrize(
    "size, ratio, canvas",
    [
        ((400, 300), "16:9", (534, 300)),  # wider: the width grows (ceil keeps it >= 16:9)
        ((400, 300), "1:1", (400, 400)),  # taller: the height grows
        ((300, 400), "16:9", (712, 400)),
        ((480, 640), "3:2", (960, 640)),
    ],
)
def test_extend_ratio_is_the_smallest_canvas_that_holds_the_photo(size, ratio, canvas):
    values, _ = extend_values(size, ratio=ratio)
    assert (values["output_width"], values["output_height"]) == canvas
    assert values["input_x"] == (canvas[0] - size[0]) // 2


def test_extend_crop_defaults_to_the_rest_of_the_photo_and_sets_the_input_size():
    values, _ = extend_values((400, 300), canvas="500x400", crop_input_x=100, crop_input_y=50)
    assert (values["crop_input_width"], values["crop_input_height"]) == (300, 250)
    assert (values["input_width"], values["input_height"]) == (300, 250)
    assert (values["input_x"], values["input_y"]) == (100, 75)


def test_extend_notes_an_output_over_twice_the_photo():
    _, ctx = extend_values((200, 300), canvas="1024x700")
    assert any("more than twice" in n for n in ctx.state["notes"])
    _, ctx = extend_values((400, 300), ratio="16:9")
    assert ctx.state["notes"] == []


@pytest.mark.parametrize(
    "size, params, fragment",
    [
        ((400, 300), {"canvas": "2100x1000"}, "output limits"),  # long side > 2048
        ((400, 300), {"canvas": "1100x1100"}, "output limits"),  # short side > 1024
        ((1800, 1200), {"ratio": "16:9"}, "2134x1200 output is over"),
        ((400, 300), {"canvas": "300x300"}, "does not fit"),
        ((400, 300), {"canvas": "400x300"}, "not larger"),
        ((400, 400), {"ratio": "1:1"}, "already has the ratio"),
        ((400, 300), {"canvas": "600x400", "input_x": 250}, "does not fit"),
        ((400, 300), {"canvas": "600x400", "input_width": 200}, "differs from the crop"),
        ((400, 300), {"canvas": "600x400", "crop_input_x": 400}, "outside"),
        ((400, 300), {"canvas": "600x400", "crop_input_width": 500}, "outside"),
    ],
)
def test_extend_refuses_what_breaks_the_documented_rules(size, params, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        extend_values(size, **params)


def test_an_output_over_the_limits_says_how_small_the_photo_must_be():
    with pytest.raises(InvalidInput) as info:
        extend_values((1800, 1200), ratio="16:9")
    assert "resize the photo (or its crop) to at most 1536x1024" in info.value.hint


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"canvas": "600x400", "ratio": "4:3"}, "both give the output size"),
        ({"canvas": "600x400", "output_width": 600}, "both give the output size"),
        ({"ratio": "4:3", "output_height": 600}, "both give the output size"),
        ({"canvas": "600x400", "position": "top", "input_x": 3}, "both place"),
        ({"canvas": "600 by 400"}, "wrong form"),
        ({"ratio": "0:1"}, "wrong form"),
        ({}, "output size is missing"),
        ({"output_width": 600}, "output size is missing"),
    ],
)
def test_extend_options_that_contradict_or_are_missing(params, fragment):
    feature = get_feature("extend")
    with pytest.raises(InvalidInput, match=fragment):
        extend_prepare(ctx_for("extend"), feature.resolve_params(params))


def test_extend_with_an_id_input_needs_every_raw_value():
    ctx = ctx_for("extend")
    job = Job("id:abc", {"source": [InputRef("id:abc", file_id="abc")]}, None, False)
    params = get_feature("extend").resolve_params({"canvas": "600x400"})
    with pytest.raises(InvalidInput, match="size is not known") as info:
        extend_params(ctx, job, params)
    assert "--canvas" in info.value.message and "--crop-width" in info.value.message


def test_the_out_paint_rules_hold_for_raw_values_too():
    raw = dict(SAMPLES["extend"][1]["payload"]["actions"][0]["params"])
    check_out_paint(raw, (480, 640), "extend")
    with pytest.raises(InvalidInput, match="--input-x -1 is out of range") as info:
        check_out_paint({**raw, "input_x": -1}, None, "extend")
    assert "0..4096" in info.value.hint
    with pytest.raises(InvalidInput, match="outside"):
        check_out_paint(raw, (400, 640), "extend")


# -- the CLI: --help and refusals before upload ------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_help_lists_every_option(command):
    feature = get_feature(command)
    result = run_cli(command, "--help")
    assert result.code == 0, result.stderr
    flags = [p.flag for p in feature.params if p.cli]
    flags += [i.flag for i in feature.inputs if not i.positional and not i.argument]
    for flag in flags:
        assert flag in result.stdout, flag
    assert feature.title in result.stdout


def test_generate_takes_no_input_file_and_its_help_says_where_styles_come_from():
    result = run_cli("generate", "--help")
    assert "INPUT" not in result.stdout and "styles list generate" in result.stdout


def photo(path: Path, size=(400, 300), fmt="JPEG") -> Path:
    """A photo with something to see: a diagonal gradient and a white square."""
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    img = Image.merge("RGB", (img.getchannel(0), Image.new("L", size, 90), img.getchannel(0)))
    ImageDraw.Draw(img).rectangle((10, 10, 40, 40), fill=(255, 255, 255))
    img.save(path, format=fmt)
    return path


def mask(path: Path, size=(400, 300), box=(150, 100, 250, 200), mode="L") -> Path:
    img = Image.new(mode, size, 0)
    if box:
        ImageDraw.Draw(img).rectangle(box, fill=255 if mode == "L" else (255, 255, 255))
    img.save(path, format="PNG")
    return path


@pytest.fixture
def files(tmp_path):
    return {
        "photo": photo(tmp_path / "photo.jpg"),
        "small": photo(tmp_path / "small.jpg", size=(300, 200)),
        "mask": mask(tmp_path / "mask.png"),
        "wrong_mask": mask(tmp_path / "wrong.png", size=(300, 200)),
        "black_mask": mask(tmp_path / "black.png", box=None),
        "colour_mask": photo(tmp_path / "colour.png", fmt="PNG"),
    }


BAD = [
    # (command, args, exit code, fragment in stderr)
    ("extend", ["{photo}", "--canvas", "3000x1000"], 4, "output limits"),
    ("extend", ["{photo}", "--canvas", "300x300"], 4, "does not fit"),
    ("extend", ["{photo}", "--ratio", "16:9", "--canvas", "800x600"], 4, "both give"),
    ("extend", ["{photo}"], 4, "output size is missing"),
    ("extend", ["{photo}", "--canvas", "800x600", "--position", "middle"], 2, "--position"),
    ("extend", ["{photo}", "--canvas", "800x600", "--input-x", "-1"], 4, "below the minimum"),
    ("replace", ["{photo}", "--mask", "{wrong_mask}", "--prompt", "a cat"], 4, "300x200"),
    ("replace", ["{photo}", "--mask", "{mask}"], 4, "--prompt is required"),
    ("replace", ["{photo}", "--mask", "{mask}", "--prompt", "  "], 4, "empty"),
    ("replace", ["{photo}", "--prompt", "a cat"], 4, "--mask is required"),
    ("obj-remove", ["{photo}", "--mask", "{wrong_mask}"], 4, "exactly the photo's width"),
    ("obj-remove", ["{photo}", "--mask", "{black_mask}"], 4, "entirely black"),
    ("obj-remove", ["{photo}", "--mask", "{colour_mask}"], 4, "colour image"),
    ("obj-remove", ["{photo}", "{small}", "--mask", "{mask}"], 4, "small.jpg is 300x200"),
    ("lighting", ["{small}"], 4, "short side under 256"),
    ("generate", ["--prompt", "cat", "--style", "1,2"], 4, "more than 1"),
    ("generate", ["--prompt", "cat", "--style", "{style}", "--steps", "0"], 4, "below the minimum"),
    ("generate", ["--prompt", "cat", "--style", "{style}", "--ratio", "3x4"], 4, "--ratio"),
    ("generate", ["--prompt", "cat", "--style", "{style}", "--seed", "-5"], 4, "--seed"),
    ("generate", ["--prompt", " ", "--style", "{style}"], 4, "--prompt is empty"),
    ("generate", ["--style", "{style}"], 4, "--prompt is required"),
    ("generate", ["--prompt", "cat"], 4, "--style is required"),
    ("generate", ["--prompt", "cat", "--style", "12345"], 4, "not in the style lists"),
    ("bg-change", ["{photo}", "--background", "nosuchcolour"], 4, "neither a colour"),
    ("bg-blur", ["{photo}", "--blur", "0"], 4, "--blur"),
    ("bg-remove", ["{colour_mask}.txt"], 4, "no such file"),
]


@pytest.mark.parametrize("command, args, code, fragment", BAD)
def test_bad_values_are_refused_before_anything_is_uploaded(
    sandbox_env, files, command, args, code, fragment
):
    names = {k: str(v) for k, v in files.items()}
    names["style"] = str(CATALOG.feature("text-to-image").groups[0].styles[0].id)
    argv = [a.format(**names) for a in args]
    result = run_cli(command, *argv)
    assert result.code == code, result.stderr
    assert fragment in result.stderr
    assert not [path for _, path in sandbox_env.requests if path.startswith("/s2s/v1.1/file/")]
    assert sandbox_env.tasks == {}


def test_an_existing_composite_is_not_replaced_unasked(sandbox_env, files, tmp_path):
    (tmp_path / "photo_bg-change_background-white_composite.jpg").write_bytes(b"keep me")
    result = run_cli("bg-change", str(files["photo"]), "--background", "white")
    assert result.code != 0 and "already exists" in result.stderr
    assert not any(p.startswith("/s2s/v1.1/file/") for _, p in sandbox_env.requests)
    assert (tmp_path / "photo_bg-change_background-white_composite.jpg").read_bytes() == b"keep me"


# -- real runs against the sandbox --------------------------------------------------------


@pytest.fixture
def yce(sandbox, paths):
    with Yce(profile_for(sandbox), paths=paths) as session:
        yield session


def test_bg_remove_gives_a_transparent_png(yce, files, tmp_path):
    [result] = yce.run("bg-remove", str(files["photo"]), output=f"{tmp_path}/out/")
    [path] = result.files
    assert path.endswith("photo_bg-remove.png")  # the result's own type, not the input's
    img = Image.open(path)
    assert img.mode == "RGBA" and img.size == (400, 300)
    assert img.getpixel((0, 0))[3] == 0 and img.getpixel((200, 150))[3] == 255
    assert len(result.dst_ids) == 1


@pytest.mark.parametrize("command", ["colorize", "color-correct"])
def test_four_versions_are_all_downloaded(sandbox_env, files, tmp_path, command):
    result = run_cli("--json", command, str(files["photo"]), "-o", str(tmp_path / "out") + "/")
    assert result.code == 0, result.stderr
    [obj] = result.json_lines()
    stem = tmp_path / "out" / f"photo_{command}"
    assert obj["files"] == [f"{stem}{suffix}.jpg" for suffix in ("", "_2", "_3", "_4")]
    assert len(obj["dst_ids"]) == 4 and len(set(obj["dst_ids"])) == 4
    pictures = [Image.open(f) for f in obj["files"]]
    assert {p.size for p in pictures} == {(400, 300)}
    # Warm to cool: red falls and blue rises from the first version to the last.
    first, last = (
        p.convert("RGB").resize((1, 1)).getpixel((0, 0)) for p in (pictures[0], pictures[-1])
    )
    assert first[0] > last[0] and first[2] < last[2]


def test_lighting_brightens_and_sends_empty_params(yce, sandbox, files, tmp_path):
    [result] = yce.run("lighting", str(files["photo"]), output=tmp_path / "lit.jpg")
    assert result.files == [str(tmp_path / "lit.jpg")]
    before = Image.open(files["photo"]).convert("L").resize((1, 1)).getpixel((0, 0))
    after = Image.open(result.files[0]).convert("L").resize((1, 1)).getpixel((0, 0))
    assert after > before
    [task] = sandbox.tasks.values()
    assert task.body["payload"]["actions"] == [{"id": 0, "params": {}}]


def test_generate_with_only_a_style_id_from_the_cli(sandbox_env, tmp_path):
    group = CATALOG.feature("text-to-image").groups[1]
    style = group.styles[0].id
    args = ["--prompt", "A little cat", "--style", str(style), "--ratio", "16:9"]
    result = run_cli("--json", "generate", *args, "--seed", "3843718472198472", "-o", "cat.jpg")
    assert result.code == 0, result.stderr
    [obj] = result.json_lines()
    assert obj["files"] == ["cat.jpg"]
    assert Image.open(tmp_path / "cat.jpg").size == (1024, 576)  # 16:9, long side 1024
    [task] = sandbox_env.tasks.values()
    params = task.body["payload"]["actions"][0]["params"]
    assert params["style_group_id"] == group.id and params["style_ids"] == [style]
    assert (params["width_ratio"], params["height_ratio"]) == (16, 9)
    assert params["seed"] == [3843718472198472]
    assert "file_sets" not in task.body["payload"]
    assert not any(p.startswith("/s2s/v1.1/file/") for _, p in sandbox_env.requests)


def test_generate_without_an_output_is_named_after_the_command(yce, tmp_path):
    style = CATALOG.feature("text-to-image").groups[0].styles[0].id
    [result] = yce.run("generate", [], {"prompt": "a boat", "style_ids": [style]})
    [path] = result.files
    assert Path(path).parent == tmp_path and Path(path).name.startswith("generate-")
    assert Path(path).name.endswith("_generate.jpg")
    assert Image.open(path).size == (1024, 1024)  # no ratio: the engine's choice (square here)


def test_extend_pastes_the_photo_where_asked(sandbox_env, files, tmp_path):
    result = run_cli(
        "--json", "extend", str(files["photo"]), "--canvas", "600x400", "--position", "top-left"
    )
    assert result.code == 0, result.stderr
    [obj] = result.json_lines()
    out = Image.open(obj["files"][0]).convert("RGB")
    assert out.size == (600, 400)
    assert min(out.getpixel((25, 25))) > 230  # the photo's white square at its place
    [task] = sandbox_env.tasks.values()
    params = task.body["payload"]["actions"][0]["params"]
    assert (params["input_x"], params["input_y"]) == (0, 0)
    assert (params["crop_input_width"], params["crop_input_height"]) == (400, 300)


def test_extend_crop_uses_only_part_of_the_photo(yce, files, tmp_path):
    params = {"ratio": "1:1", "crop_input_x": 100, "crop_input_width": 200}
    [result] = yce.run("extend", str(files["photo"]), params, output=tmp_path / "sq.jpg")
    assert Image.open(result.files[0]).size == (300, 300)


def test_replace_fills_the_masked_area(yce, sandbox, files, tmp_path):
    [result] = yce.run(
        "replace",
        str(files["photo"]),
        {"prompt": "a cat"},
        extra_inputs={"mask": str(files["mask"])},
        output=tmp_path / "r.jpg",
    )
    before = Image.open(files["photo"]).convert("RGB")
    after = Image.open(result.files[0]).convert("RGB")
    assert after.size == before.size
    inside = after.crop((160, 110, 240, 190)).getextrema()
    assert all(high - low < 12 for low, high in inside)  # one flat colour
    assert after.getpixel((25, 25)) == pytest.approx(before.getpixel((25, 25)), abs=8)
    [task] = sandbox.tasks.values()
    assert set(task.body["payload"]["file_sets"]) == {"src_ids", "msk_ids"}
    assert len(sandbox.upload_log) == 2  # the photo and the mask


def test_obj_remove_with_several_photos_uploads_the_mask_each_time(yce, sandbox, files, tmp_path):
    second = photo(tmp_path / "second.png", fmt="PNG")
    results = yce.run(
        "obj-remove",
        [str(files["photo"]), str(second)],
        extra_inputs={"mask": str(files["mask"])},
        output=f"{tmp_path}/clean/",
    )
    assert [Path(r.files[0]).name for r in results] == [
        "photo_obj-remove_mask-mask.jpg",
        "second_obj-remove_mask-mask.png",
    ]
    for r in results:
        out = Image.open(r.files[0]).convert("RGB")
        assert all(high - low < 12 for low, high in out.crop((160, 110, 240, 190)).getextrema())
    bodies = [t.body["payload"]["file_sets"] for t in sandbox.tasks.values()]
    assert all(set(b) == {"src_ids", "mask_ids"} for b in bodies)
    assert "params" not in list(sandbox.tasks.values())[0].body["payload"]["actions"][0]


def test_a_mask_of_another_size_given_by_id_fails_in_the_engine_not_here(
    yce, sandbox, files, tmp_path
):
    feature = get_feature("obj-remove")
    specs = {s.name: s for s in feature.inputs}
    photo_id = yce.upload(feature, specs["source"], InputRef.parse(str(files["photo"])))
    mask_id = yce.upload(feature, specs["mask"], InputRef.parse(str(files["wrong_mask"])))
    notes = []
    with pytest.raises(TaskFailed) as info:
        yce.run(
            feature,
            f"id:{photo_id}",
            extra_inputs={"mask": f"id:{mask_id}"},
            output=tmp_path / "x.jpg",
            on_event=lambda e: notes.append(e.message or ""),
        )
    assert any("cannot be checked" in n for n in notes)
    assert info.value.error == "invalid_parameter"
    assert sandbox.charges() == []


def test_bg_change_returns_the_mask_and_composites_it_locally(sandbox_env, files, tmp_path):
    background = photo(tmp_path / "beach.png", size=(50, 80), fmt="PNG")
    for option, expected in (("#1e90ff", (30, 144, 255)), (str(background), None)):
        result = run_cli(
            "--json", "bg-change", str(files["photo"]), "--background", option, "--overwrite"
        )
        assert result.code == 0, result.stderr
        [obj] = result.json_lines()
        mask_path, composite = obj["files"]
        # the parameter names the result: a colour by its digits, a file by its name
        tail = "1e90ff" if option.startswith("#") else "beach"
        assert mask_path == str(tmp_path / f"photo_bg-change_background-{tail}.png")
        assert composite == str(tmp_path / f"photo_bg-change_background-{tail}_composite.jpg")
        assert obj["extra"]["composite"] == composite
        returned = Image.open(mask_path)
        assert returned.mode == "L" and returned.size == (400, 300)  # the API's mask as is
        made = Image.open(composite).convert("RGB")
        source = Image.open(files["photo"]).convert("RGB")
        assert made.getpixel((200, 150)) == pytest.approx(source.getpixel((200, 150)), abs=8)
        if expected:
            assert made.getpixel((2, 2)) == pytest.approx(expected, abs=8)
        else:
            assert made.getpixel((2, 2)) != pytest.approx(source.getpixel((2, 2)), abs=8)


def test_bg_blur_without_blur_keeps_just_the_mask(yce, files, tmp_path):
    [result] = yce.run("bg-blur", str(files["photo"]), output=tmp_path / "m.png")
    assert result.files == [str(tmp_path / "m.png")]
    assert Image.open(result.files[0]).mode == "L"


def test_bg_blur_blurs_only_the_background(yce, files, tmp_path):
    [result] = yce.run("bg-blur", str(files["photo"]), {"blur": 6}, output=f"{tmp_path}/b/")
    mask_path, blurred = result.files
    assert blurred.endswith("photo_bg-blur_blur-6_blurred.jpg")
    source = Image.open(files["photo"]).convert("RGB")
    made = Image.open(blurred).convert("RGB")
    # The white square in the corner (background) is smeared; the centre is untouched.
    assert min(made.getpixel((12, 12))) < min(source.getpixel((12, 12))) - 20
    assert made.getpixel((200, 150)) == pytest.approx(source.getpixel((200, 150)), abs=8)


def test_local_compositing_needs_the_photo_on_this_computer(yce, files, tmp_path):
    feature = get_feature("bg-change")
    file_id = yce.upload(feature, feature.primary_input, InputRef.parse(str(files["photo"])))
    with pytest.raises(InvalidInput, match="needs the photo on this computer"):
        yce.run("bg-change", f"id:{file_id}", {"background": "red"}, output=tmp_path / "x.png")


def test_a_result_that_is_not_a_mask_is_kept_and_not_composited(tmp_path):
    from ycecli.api import TaskResult
    from ycecli.hooks.image import composite_background

    source = photo(tmp_path / "p.jpg")
    returned = photo(tmp_path / "p_bg-change.jpg")  # a colour picture, as if composited
    job = Job("p.jpg", {"source": [local_ref(str(source), (400, 300))]}, returned, True)
    job.params = {"background": "white"}
    result = TaskResult("bg-change", "p.jpg", files=[str(returned)])
    ctx = ctx_for("bg-change")
    composite_background(ctx, job, result)
    assert result.files == [str(returned)]
    assert any("not a mask" in n for n in ctx.state["notes"])


def test_out_paint_bodies_that_break_the_rules_are_refused_by_the_sandbox(sandbox):
    from ycecli.sandbox.server import SandboxError, check_run_body

    good = json.loads(json.dumps(SAMPLES["extend"][1]))
    check_run_body(get_feature("extend"), good, known_file=lambda _: True)
    for change in (
        {"input_x": 481},  # 481 + 480 > 960
        {"output_width": 480, "output_height": 640, "input_x": 0, "input_y": 0},  # not larger
        {"output_width": 2100},  # long side > 2048
    ):
        body = json.loads(json.dumps(good))
        body["payload"]["actions"][0]["params"].update(change)
        with pytest.raises(SandboxError):
            check_run_body(get_feature("extend"), body, known_file=lambda _: True)
    body = json.loads(json.dumps(good))
    del body["payload"]["actions"][0]["params"]["crop_input_x"]
    with pytest.raises(SandboxError, match="crop_input_x"):
        check_run_body(get_feature("extend"), body, known_file=lambda _: True)


def test_an_existing_output_stops_the_run_before_upload(yce, sandbox, files, tmp_path):
    (tmp_path / "photo_bg-blur_blurred.jpg").write_bytes(b"x")
    with pytest.raises(OutputExists):
        yce.run("bg-blur", str(files["photo"]), {"blur": 3}, output=tmp_path / "photo_bg-blur.png")
    assert sandbox.upload_log == []
