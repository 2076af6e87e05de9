"""Hair colour, the hair generators, clothes and fabric (003 2.5-2.12): bodies shaped as
the seed's samples, options in --help, bad input refused before any upload, and real
runs against the sandbox."""

from __future__ import annotations

import json
import re

import pytest
from PIL import Image

from tests.conftest import make_image, profile_for, run_cli
from tests.seeds import seed
from ycecli import hooks
from ycecli.api import Yce
from ycecli.errors import InvalidInput
from ycecli.features import get_feature
from ycecli.features.hair import FULL_PRESETS, OMBRE_PRESETS, PRESETS
from ycecli.sandbox.server import SandboxError, check_run_body
from ycecli.sandbox.styles import CATALOG

SEED = seed("003_ebfb568487e1b227.txt")  # the extract in tests/seeds/

# The run-task request samples, verbatim (003:<line> is where each starts).
SRC = "pfNK5PuRe0MrwLHcGA3DOmB1ahwfXTbYHjv+KoBIxbE="
REF = "ligsPdfZTgNrbXnAOsPMFCiKyqGEJWl7SkYBBv6mHUac8ywz/bnMOrhVtlbo86Mc"
GROUP, STYLE = 18213963761051864, 22205685004925400
HAIR_COLOR_SAMPLE = {  # 003:2572
    "request_id": 0,
    "payload": {
        "file_sets": {"src_ids": [SRC]},
        "actions": [
            {
                "id": 0,
                "params": {
                    "preset": "Jet Black",
                    "pattern": {
                        "name": "ombre",
                        "blend_strength": 100,
                        "line_offset": -0.99,
                        "coloring_section": "top",
                    },
                    "palettes": [
                        {"color": "^#(AAAAAA)$", "color_intensity": 100, "shine_intensity": 100}
                    ],
                },
            }
        ],
    },
}


def style_sample(src: str) -> dict:
    return {
        "request_id": 0,
        "payload": {
            "actions": [{"id": 0, "params": {"style_group_id": GROUP, "style_ids": [STYLE]}}],
            "file_sets": {"src_ids": [src]},
        },
    }


STYLE_SAMPLES = {  # command: (seed line, sample)
    "hair-style": (3340, style_sample(SRC)),
    "hair-ext": (4100, style_sample("string")),
    "hair-bang": (4864, style_sample("string")),
    "hair-volume": (5624, style_sample("string")),
    "hair-curl": (6269, style_sample("string")),
    "fabric": (7638, style_sample("string")),
}
CLOTH_SAMPLE = {  # 003:6980
    "request_id": 0,
    "payload": {
        "file_sets": {"src_ids": ["string"], "ref_ids": [REF]},
        "actions": [
            {
                "id": 0,
                "params": {
                    "style_group_id": GROUP,
                    "style_ids": [STYLE],
                    "garment_category": "full_body",
                },
            }
        ],
    },
}
COMMANDS = ("hair-color", "hair-style", "hair-ext", "hair-bang", "hair-volume", "hair-curl")
COMMANDS += ("clothes", "fabric")


def shape(value):
    """Structure and field names, with values reduced to their JSON types."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def seed_sample(line: int) -> dict:
    """The JSON request sample that starts at `line` of seed 003 (markdown `\\`
    continuations removed)."""
    lines = SEED.lines_from(line)
    assert lines[0].startswith("`{")
    text = []
    for raw in lines:
        text.append(raw.rstrip("\\"))
        if raw.endswith("}`"):
            break
    return json.loads("".join(text).strip("`"))


def body_for(command: str, params: dict, file_ids: dict) -> dict:
    """The body yce sends: options resolved, the prepare hook run, then built."""
    feature = get_feature(command)
    ctx = hooks.HookContext(None, feature)
    resolved = hooks.run(feature, "prepare", ctx, feature.resolve_params(params))
    feature.check_required(resolved)
    return feature.build_body(0, file_ids, resolved)


def params_of(body: dict) -> dict:
    return body["payload"]["actions"][0]["params"]


# -- 1. bodies as the seed's samples -------------------------------------------------------


def test_the_samples_here_are_the_seeds_own():
    assert seed_sample(2572) == HAIR_COLOR_SAMPLE
    assert seed_sample(6980) == CLOTH_SAMPLE
    for line, sample in STYLE_SAMPLES.values():
        assert seed_sample(line) == sample


def test_hair_color_ombre_body_is_the_samples_pattern_and_palettes():
    # The sample (003:2572) has two documented defects, not copied: it sends `preset`
    # with pattern + palettes (the preset would win, 003:2339), and its one palette
    # for an ombre (which needs two, 003:2518) has the regex itself as the colour.
    body = body_for(
        "hair-color",
        {
            "color": ["#AAAAAA", "BBBBBB"],
            "blend_strength": 100,
            "line_offset": -0.99,
            "color_intensity": 100,
            "shine_intensity": 100,
        },
        {"source": [SRC]},
    )
    expected = json.loads(json.dumps(HAIR_COLOR_SAMPLE))
    params = params_of(expected)
    del params["preset"]
    params["palettes"] = [
        {"color": "#AAAAAA", "color_intensity": 100, "shine_intensity": 100},
        {"color": "#BBBBBB", "color_intensity": 100, "shine_intensity": 100},
    ]
    assert body == expected
    assert list(params_of(body)["pattern"]) == list(params_of(HAIR_COLOR_SAMPLE)["pattern"])


def test_hair_color_preset_and_full_bodies():
    body = body_for("hair-color", {"preset": "Jet Black"}, {"source": [SRC]})
    expected = json.loads(json.dumps(HAIR_COLOR_SAMPLE))
    params_of(expected).pop("pattern")
    params_of(expected).pop("palettes")
    assert body == expected

    body = body_for("hair-color", {"color": ["7b3f00"]}, {"source": [SRC]})
    assert params_of(body) == {"pattern": {"name": "full"}, "palettes": [{"color": "#7b3f00"}]}
    sample_palette = params_of(HAIR_COLOR_SAMPLE)["palettes"][0]
    body = body_for(
        "hair-color",
        {"color": ["#7B3F00"], "pattern_name": "full", "color_intensity": 0},
        {"source": [SRC]},
    )
    assert shape(params_of(body)["palettes"][0])["color"] == shape(sample_palette)["color"]
    assert params_of(body)["palettes"] == [{"color": "#7B3F00", "color_intensity": 0}]


@pytest.mark.parametrize("command", list(STYLE_SAMPLES))
def test_style_bodies_equal_the_samples(command):
    _, sample = STYLE_SAMPLES[command]
    src = sample["payload"]["file_sets"]["src_ids"][0]
    body = body_for(
        command, {"style_group_id": GROUP, "style_ids": [str(STYLE)]}, {"source": [src]}
    )
    assert body == sample  # the ids stay exact integers, never floats
    assert type(params_of(body)["style_ids"][0]) is int


def test_clothes_bodies_are_the_sample_split_into_its_two_modes():
    # The sample (003:6980) sends both modes at once; each yce body is one of them.
    garment = body_for(
        "clothes", {"garment_category": "full_body"}, {"source": ["string"], "garment": [REF]}
    )
    expected = json.loads(json.dumps(CLOTH_SAMPLE))
    params_of(expected).pop("style_group_id")
    params_of(expected).pop("style_ids")
    assert garment == expected

    style = body_for(
        "clothes", {"style_group_id": GROUP, "style_ids": [STYLE]}, {"source": ["string"]}
    )
    expected = json.loads(json.dumps(CLOTH_SAMPLE))
    del expected["payload"]["file_sets"]["ref_ids"]
    params_of(expected).pop("garment_category")
    assert style == expected


def test_the_sandbox_checks_hair_color_and_cloth_bodies_like_the_docs():
    hair_color, cloth = get_feature("hair-color"), get_feature("clothes")

    def check(feature, body):
        check_run_body(feature, body, known_file=lambda fid: True)

    # The seed's own sample: an ombre with one palette, whose colour is the regex.
    with pytest.raises(SandboxError, match="ombre mode takes 2"):
        check(hair_color, HAIR_COLOR_SAMPLE)
    fixed = json.loads(json.dumps(HAIR_COLOR_SAMPLE))
    params_of(fixed)["palettes"].append({"color": "#bbbbbb"})
    with pytest.raises(SandboxError, match="color must match"):
        check(hair_color, fixed)
    params_of(fixed)["palettes"][0]["color"] = "#AAAAAA"
    check(hair_color, fixed)  # preset + pattern + palettes: allowed, the preset wins
    del params_of(fixed)["pattern"]["line_offset"]
    with pytest.raises(SandboxError, match="line_offset is required for ombre"):
        check(hair_color, fixed)
    for params, fragment in (
        ({}, "preset, or pattern and palettes"),
        ({"pattern": {"name": "full"}}, "preset, or pattern and palettes"),
        ({"preset": "Mauve"}, "preset"),
        ({"pattern": {"name": "wave"}, "palettes": [{"color": "#000000"}]}, "name must be"),
        (
            {
                "pattern": {"name": "full"},
                "palettes": [{"color": "#000000", "shine_intensity": 101}],
            },
            "shine_intensity must be in",
        ),
    ):
        body = {
            "request_id": 0,
            "payload": {"file_sets": {"src_ids": ["x"]}, "actions": [{"id": 0, "params": params}]},
        }
        with pytest.raises(SandboxError, match=fragment):
            check(hair_color, body)

    # The cloth sample sends both modes; with real style ids, that mix is refused.
    groups = CATALOG.feature("cloth").groups
    mixed = json.loads(json.dumps(CLOTH_SAMPLE))
    params_of(mixed).update(style_group_id=groups[0].id, style_ids=[groups[0].styles[0].id])
    with pytest.raises(SandboxError, match="no documented meaning"):
        check(cloth, mixed)
    garment = json.loads(json.dumps(CLOTH_SAMPLE))
    params_of(garment).pop("style_group_id")
    params_of(garment).pop("style_ids")
    check(cloth, garment)
    params_of(garment).pop("garment_category")
    with pytest.raises(SandboxError, match="garment_category is required"):
        check(cloth, garment)
    style = {
        "request_id": 0,
        "payload": {
            "file_sets": {"src_ids": ["x"]},
            "actions": [{"id": 0, "params": {"style_ids": [groups[0].styles[0].id]}}],
        },
    }
    with pytest.raises(SandboxError, match="style_group_id is required"):
        check(cloth, style)


# -- 2. --help lists every option -----------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_help_lists_every_option(command):
    feature = get_feature(command)
    result = run_cli(command, "--help", env={"COLUMNS": "200"})
    assert result.code == 0, result.stderr
    text = " ".join(result.stdout.split())
    flags = [p.flag for p in feature.params if p.cli]
    flags += [i.flag for i in feature.inputs if not i.positional]
    assert flags
    for flag in flags:
        assert re.search(re.escape(flag) + r"\b", text), flag
    if command == "hair-color":
        for name in PRESETS:
            assert name in text
        assert len(FULL_PRESETS) == len(OMBRE_PRESETS) == 10


# -- 3. bad input is refused before anything is uploaded -----------------------------------


@pytest.fixture
def photos(tmp_path):
    return {
        "small": make_image(tmp_path / "small.jpg", size=(320, 240)),
        "png": make_image(tmp_path / "face.png", size=(320, 240), fmt="PNG"),
        "tiny": make_image(tmp_path / "tiny.jpg", size=(90, 120)),
        "portrait": make_image(tmp_path / "portrait.jpg", size=(1000, 1500)),
        "wide": make_image(tmp_path / "wide.jpg", size=(1920, 1000)),
        "body": make_image(tmp_path / "body.jpg", size=(400, 600)),
        "garment": make_image(tmp_path / "garment.jpg", size=(384, 512)),
    }


def uploads(sandbox) -> list:
    return [p for _, p in sandbox.requests if p.startswith("/s2s/v1.1/file/")]


def first_style(slug: str) -> int:
    return CATALOG.feature(slug).groups[0].styles[0].id


HAIR_COLOR_REFUSALS = [
    ({"preset": "Jet Black", "color": ["#000000"]}, "--preset cannot be combined with --color"),
    ({"preset": "Burgundy", "pattern_name": "full"}, "cannot be combined"),
    ({}, "choose a colour"),
    ({"blend_strength": 50}, "need\\(s\\) --color"),
    ({"color": ["#000000"], "blend_strength": 50}, "only apply to an ombre"),
    ({"color": ["#000000", "#FFFFFF"], "pattern_name": "full"}, "full takes one --color"),
    ({"color": ["#000000"], "pattern_name": "ombre"}, "ombre takes two --color"),
    ({"color": ["#000000", "#FFFFFF"], "blend_strength": 50}, "needs --line-offset"),
    ({"color": ["#00000G"]}, "wrong form"),
    ({"color": ["#000000", "#111111", "#222222"]}, "more than 2"),
    ({"color": ["#000000"], "color_intensity": 101}, "above the maximum"),
    ({"color": ["#0", "#1"], "blend_strength": 1, "line_offset": 1.0}, "wrong form"),
    (
        {"color": ["#000000", "#FFFFFF"], "blend_strength": 1, "line_offset": 1.0},
        "above the maximum",
    ),
    ({"pattern": {"name": "full"}, "palettes": [{"color": "^#(AAAAAA)$"}]}, "not #RRGGBB"),
]


@pytest.mark.parametrize(("params", "fragment"), HAIR_COLOR_REFUSALS)
def test_hair_color_refuses_what_the_engine_would_ignore_or_refuse(
    sandbox, paths, photos, params, fragment
):
    with Yce(profile_for(sandbox), paths=paths) as yce, pytest.raises(InvalidInput, match=fragment):
        yce.run("hair-color", str(photos["small"]), params)
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("photo", "fragment"),
    [
        ("tiny", "short side under 100"),
        ("portrait", "1000x1500 is too large"),
        ("wide", "long side over 1919"),
    ],
)
def test_hair_color_size_limits_take_the_stricter_reading(sandbox, paths, photos, photo, fragment):
    with (
        Yce(profile_for(sandbox), paths=paths) as yce,
        pytest.raises(InvalidInput, match=fragment) as info,
    ):
        yce.run("hair-color", str(photos[photo]), {"preset": "Lavender"})
    assert uploads(sandbox) == []
    if photo == "portrait":
        assert "height < 1080" in info.value.hint


def test_cli_refusals_exit_2_or_4_and_upload_nothing(sandbox_env, photos):
    small, body, garment = str(photos["small"]), str(photos["body"]), str(photos["garment"])
    cases = [
        (2, ["hair-color", small, "--preset", "Mauve"]),
        (2, ["hair-color", small, "--pattern", "zigzag", "--color", "000000"]),
        (4, ["hair-color", small, "--preset", "Jet Black", "--color", "#000000"]),
        (
            4,
            [
                "hair-color",
                small,
                "--color",
                "#000000",
                "--color",
                "#ffffff",
                "--line-offset",
                "-0.5",
            ],
        ),
        (4, ["hair-style", str(photos["png"]), "--style", str(first_style("hair-style"))]),
        (4, ["hair-bang", small]),
        (4, ["fabric", body, "--style", "1,2"]),
        (4, ["clothes", body]),
        (4, ["clothes", body, "--garment", garment]),
        (
            4,
            [
                "clothes",
                body,
                "--garment-category",
                "upper_body",
                "--style",
                str(first_style("cloth")),
            ],
        ),
    ]
    for code, args in cases:
        result = run_cli(*args)
        assert result.code == code, (args, result.stderr)
    assert uploads(sandbox_env) == []
    assert "--garment-category" in run_cli("clothes", body, "--garment", garment).stderr


@pytest.mark.parametrize(
    ("extra", "params", "fragment"),
    [
        ({"garment": "garment"}, {"style_ids": ["S"]}, "two different modes"),
        ({}, {}, "give --style"),
        ({"garment": "garment"}, {}, "needs --garment-category"),
        ({}, {"style_ids": ["S"], "garment_category": "upper_body"}, "applies to --garment only"),
        ({"garment": "small"}, {"garment_category": "upper_body"}, "under the minimum 512x384"),
    ],
)
def test_clothes_takes_one_mode_and_checks_the_garment_minimum(
    sandbox, paths, photos, extra, params, fragment
):
    params = {k: ([first_style("cloth")] if v == ["S"] else v) for k, v in params.items()}
    extra_inputs = {k: str(photos[v]) for k, v in extra.items()}
    with Yce(profile_for(sandbox), paths=paths) as yce, pytest.raises(InvalidInput, match=fragment):
        yce.run("clothes", str(photos["body"]), params, extra_inputs=extra_inputs)
    assert uploads(sandbox) == []


def test_style_features_need_a_known_style(sandbox, paths, photos):
    with Yce(profile_for(sandbox), paths=paths) as yce:
        with pytest.raises(InvalidInput, match="--style is required") as info:
            yce.run("hair-curl", str(photos["small"]), {})
        assert "yce styles list hair-curl" in info.value.hint
        with pytest.raises(InvalidInput, match="not in the style lists"):
            yce.run("hair-ext", str(photos["small"]), {"style_ids": [first_style("hair-style")]})
    assert uploads(sandbox) == []


# -- 4. real runs against the sandbox -------------------------------------------------------


def pixel(path, xy) -> tuple[int, int, int]:
    with Image.open(path) as img:
        return img.convert("RGB").getpixel(xy)


def close(a, b, tolerance=24) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


SOURCE_RGB = (120, 30, 200)  # make_image's colour


def test_hair_color_runs_full_ombre_and_preset(sandbox, paths, photos, tmp_path):
    src = str(photos["small"])
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [full] = yce.run(
            "hair-color",
            src,
            {"color": ["00FF00"], "color_intensity": 100},
            output=tmp_path / "full.jpg",
        )
        [ombre] = yce.run(
            "hair-color",
            src,
            {"color": ["#FF0000", "#0000FF"], "blend_strength": 10, "line_offset": 0.0},
            output=tmp_path / "ombre.jpg",
        )
        [preset] = yce.run(
            "hair-color", src, {"preset": "Platinum Blonde"}, output=tmp_path / "p.jpg"
        )
    for result in (full, ombre, preset):
        assert result.status == "success" and len(result.dst_ids) == 1
        assert Image.open(result.files[0]).size == (320, 240)
        assert close(pixel(result.files[0], (160, 230)), SOURCE_RGB)  # below the hair: untouched
    top = pixel(full.files[0], (160, 10))
    assert top[1] > 180 and top[0] < 80  # tinted green
    upper, lower = pixel(ombre.files[0], (160, 5)), pixel(ombre.files[0], (160, 115))
    assert upper[0] > upper[2] - 60 and lower[2] > lower[0] + 60  # red fades into blue
    assert upper[0] > lower[0] + 60
    assert sum(pixel(preset.files[0], (160, 10))) > sum(SOURCE_RGB) + 150  # platinum: lighter
    [task] = [t for t in sandbox.tasks.values() if "preset" in params_of(t.body)]
    assert params_of(task.body) == {"preset": "Platinum Blonde"}


@pytest.mark.parametrize(
    "command", ["hair-style", "hair-ext", "hair-bang", "hair-volume", "hair-curl", "fabric"]
)
def test_style_features_run_with_only_a_style_id(sandbox, paths, photos, tmp_path, command):
    feature = get_feature(command)
    group = CATALOG.feature(feature.slug).groups[-1]
    style = group.styles[-1]
    source = photos["body"] if command == "fabric" else photos["small"]
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [result] = yce.run(
            command, str(source), {"style_ids": [str(style.id)]}, output=tmp_path / "o.jpg"
        )
    assert result.files == [str(tmp_path / "o.jpg")]
    with Image.open(result.files[0]) as img:
        assert img.size == Image.open(source).size
    [task] = sandbox.tasks.values()
    assert task.feature.slug == feature.slug
    assert params_of(task.body) == {"style_group_id": group.id, "style_ids": [style.id]}
    width, height = Image.open(source).size
    if command == "fabric":
        changed = pixel(result.files[0], (width // 2, height * 3 // 4))
        assert close(pixel(result.files[0], (width // 2, height // 4)), SOURCE_RGB)
    else:
        changed = pixel(result.files[0], (width // 2, height * 3 // 16))  # inside the band
        assert close(pixel(result.files[0], (width // 2, height * 3 // 4)), SOURCE_RGB)
    assert not close(changed, SOURCE_RGB)


def test_clothes_runs_in_both_modes(sandbox, paths, photos, tmp_path):
    body, garment_path = photos["body"], tmp_path / "shirt.jpg"
    Image.new("RGB", (384, 512), (10, 220, 10)).save(garment_path, format="JPEG")
    style = first_style("cloth")
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [custom] = yce.run(
            "clothes",
            str(body),
            {"garment_category": "upper_body"},
            extra_inputs={"garment": str(garment_path)},
            output=tmp_path / "custom.jpg",
        )
        [styled] = yce.run(
            "clothes", str(body), {"style_ids": [style]}, output=tmp_path / "styled.jpg"
        )
    uploaded = [p for p in uploads(sandbox) if p == "/s2s/v1.1/file/cloth"]
    # One file-creation request a run: the photo alone, then the photo and the garment.
    assert len(uploaded) == 2
    assert close(pixel(custom.files[0], (200, 450)), (10, 220, 10))  # garment on the lower half
    assert close(pixel(custom.files[0], (200, 100)), SOURCE_RGB)
    assert not close(pixel(styled.files[0], (200, 320)), SOURCE_RGB)  # the style's band
    assert close(pixel(styled.files[0], (200, 100)), SOURCE_RGB)
    bodies = sorted((t.body for t in sandbox.tasks.values()), key=lambda b: b["request_id"])
    assert set(bodies[0]["payload"]["file_sets"]) == {"src_ids", "ref_ids"}
    assert params_of(bodies[0]) == {"garment_category": "upper_body"}
    assert set(bodies[1]["payload"]["file_sets"]) == {"src_ids"}
    assert params_of(bodies[1])["style_ids"] == [style]


def test_cli_runs_hair_color_and_hair_volume_by_slug(sandbox_env, photos, tmp_path):
    result = run_cli(
        "--json",
        "hair-color",
        str(photos["small"]),
        "--color",
        "#102030",
        "--color",
        "#a0b0c0",
        "--blend-strength",
        "40",
        "--line-offset",
        "-0.5",
        "-o",
        str(tmp_path / "dyed.jpg"),
    )
    assert result.code == 0, result.stderr
    [obj] = result.json_lines()
    assert obj["status"] == "success" and obj["files"] == [str(tmp_path / "dyed.jpg")]
    [task] = sandbox_env.tasks.values()
    assert params_of(task.body)["pattern"] == {
        "name": "ombre",
        "blend_strength": 40,
        "line_offset": -0.5,
        "coloring_section": "top",
    }
    # The API's slug names the feature too, for scripts written against the docs.
    with Yce(profile_for(sandbox_env)) as yce:
        style = first_style("hair-vol")
        [res] = yce.run("hair-vol", str(photos["small"]), {"style_ids": [style]})
    assert res.files == [str(tmp_path / f"small_hair-volume_style-{style}.jpg")]
    assert Image.open(res.files[0]).size == (320, 240)
