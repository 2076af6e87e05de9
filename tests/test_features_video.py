"""Image to video and the three clip features: bodies as the seed samples, the clip's
length in custom.dst_duration (read from the mp4 header, or given with --duration
where the header cannot tell), the
documented limits checked before upload, and real runs against the sandbox."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import profile_for, run_cli
from tests.seeds import seed
from ycecli.api import Yce
from ycecli.errors import InvalidInput, TaskFailed
from ycecli.features import get_feature
from ycecli.hooks.video import dst_seconds
from ycecli.sandbox.engines.video import mp4_duration, still_mp4
from ycecli.sandbox.styles import CATALOG

SEED = seed("003_ebfb568487e1b227.txt")  # the extract in tests/seeds/
SRC = "pfNK5PuRe0MrwLHcGA3DOmB1ahwfXTbYHjv+KoBIxbE="
REF = "ligsPdfZTgNrbXnAOsPMFCiKyqGEJWl7SkYBBv6mHUac8ywz/bnMOrhVtlbo86Mc"
GROUP, STYLE = 18213963761051864, 22205685004925400  # both above 2**53

# The run samples of 003, verbatim: image to video (16797), video enhance (17266),
# video face swap (17726), video style transfer (18418). Every one sends
# "dst_duration": 0, which is no clip's length and which image to video's own
# description forbids ("Only accept 5 or 10 seconds"): a placeholder, compared here
# with the real value put in its place.
SAMPLES = {
    "image-to-video": {
        "request_id": 0,
        "payload": {
            "actions": [
                {"id": 0, "params": {"style_group_id": GROUP, "style_ids": [STYLE], "mode": "std"}}
            ],
            "file_sets": {"src_ids": ["string"]},
            "custom": {"dst_duration": 0},
        },
    },
    "video-enhance": {
        "request_id": 0,
        "payload": {
            "file_sets": {"src_ids": [SRC]},
            "actions": [{"id": 0}],
            "custom": {"dst_duration": 0},
        },
    },
    "video-face-swap": {
        "request_id": 0,
        "payload": {
            "file_sets": {"src_ids": [SRC], "ref_ids": [REF]},
            "actions": [{"id": 0}],
            "custom": {"dst_duration": 0},
        },
    },
    "video-style": {
        "request_id": 0,
        "payload": {
            "actions": [{"id": 0, "params": {"style_group_id": GROUP, "style_ids": [STYLE]}}],
            "file_sets": {"src_ids": ["string"]},
            "custom": {"dst_duration": 0},
        },
    },
}
SAMPLE_LINES = {
    "image-to-video": 16797,
    "video-enhance": 17266,
    "video-face-swap": 17726,
    "video-style": 18418,
}


def shape(value):
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def seed_sample(line: int):
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


def with_duration(sample: dict, seconds: int) -> dict:
    copy = json.loads(json.dumps(sample))
    copy["payload"]["custom"]["dst_duration"] = seconds
    return copy


def no_uploads(sandbox) -> bool:
    return not any("/file/" in path for _, path in sandbox.requests)


def style_of(slug: str) -> tuple[int, int]:
    group = CATALOG.feature(slug).groups[0]
    return group.id, group.styles[0].id


def photo(path: Path, size=(400, 300)) -> Path:
    Image.linear_gradient("L").resize(size).convert("RGB").save(path, format="JPEG")
    return path


def clip(path: Path, seconds: float = 3, size=(64, 48)) -> Path:
    """A tiny mp4 that states its length (one still frame), labelled H.264 as a
    camera's clip would be: the codecs of 003:399-401 are checked, frames never are."""
    frame = io.BytesIO()
    Image.new("L", size, 90).save(frame, format="JPEG")
    path.write_bytes(still_mp4(frame.getvalue(), size[0], size[1], seconds, codec=b"avc1"))
    return path


def fake_clip(path: Path) -> Path:
    """Bytes that are an mp4 by their signature and nothing more."""
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    return path


@pytest.fixture
def no_ffprobe(tmp_path, monkeypatch) -> dict:
    empty = tmp_path / "emptybin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return {"PATH": str(empty)}


@pytest.fixture
def face_upload_route(sandbox):
    """The sandbox routes each feature's own upload endpoint; the face photo of the
    video face swap goes to AI Face Swap's (/file/face-swap). When that feature is
    not in the registry, the same image endpoint is routed here by hand."""
    from ycecli.sandbox.handler import bind

    key = ("POST", "/s2s/v1.1/file/face-swap")
    if key not in sandbox.router.routes:
        sandbox.router.routes[key] = bind(sandbox.h_file_create, get_feature("image-to-video"))
    return sandbox


# --- bodies --------------------------------------------------------------------------


@pytest.mark.parametrize("command", sorted(SAMPLES))
def test_the_samples_here_are_the_seeds(command):
    assert seed_sample(SAMPLE_LINES[command]) == SAMPLES[command]


def test_image_to_video_body_equals_the_seed_sample():
    feature = get_feature("image-to-video")
    given = {"style_group_id": GROUP, "style_ids": [STYLE], "mode": "std", "dst_duration": 10}
    body = feature.build_body(0, {"source": ["string"]}, feature.resolve_params(given))
    assert body == with_duration(SAMPLES["image-to-video"], 10)
    # ids above 2**53 go out exact, never through a float
    assert f'"style_ids": [{STYLE}]' in json.dumps(body)
    # --duration left out: 5, the shorter clip (required by the API, no default there)
    body = feature.build_body(0, {"source": ["x"]}, feature.resolve_params({"style_ids": [1]}))
    assert body["payload"]["custom"] == {"dst_duration": 5}
    assert "mode" not in body["payload"]["actions"][0]["params"]  # the engine's choice


def test_the_sample_duration_zero_is_refused():
    feature = get_feature("image-to-video")
    with pytest.raises(InvalidInput, match="not allowed") as info:
        feature.resolve_params({"style_ids": [STYLE], "dst_duration": 0})
    assert "5, 10" in info.value.hint


@pytest.mark.parametrize(
    "command, inputs, given",
    [
        ("video-enhance", {"source": [SRC]}, {}),
        ("video-face-swap", {"source": [SRC], "face": [REF]}, {}),
        ("video-style", {"source": ["string"]}, {"style_group_id": GROUP, "style_ids": [STYLE]}),
    ],
)
def test_clip_bodies_equal_the_seed_samples(command, inputs, given):
    feature = get_feature(command)
    params = {**feature.resolve_params(given), "dst_duration": 12}  # as the hook sets it
    body = feature.build_body(0, inputs, params)
    assert body == with_duration(SAMPLES[command], 12)
    assert shape(body) == shape(SAMPLES[command])


def test_dst_duration_rounds_up_but_forgives_a_few_hundredths():
    assert [dst_seconds(s) for s in (12.0, 12.03, 12.1, 12.2, 12.9, 0.2)] == [12, 12, 12, 13, 13, 1]


# --- help and usage ------------------------------------------------------------------


@pytest.mark.parametrize(
    "command, options",
    [
        ("image-to-video", ("--style", "--style-group", "--mode", "--duration", "pro")),
        ("video-enhance", ("--duration", "SECONDS")),
        ("video-face-swap", ("--face", "--duration")),
        ("video-style", ("--style", "--style-group", "--duration")),
    ],
)
def test_help_lists_every_option(command, options):
    result = run_cli(command, "--help")
    assert result.code == 0, result.stderr
    for option in (*options, "--output", "--overwrite", "--timeout"):
        assert option in result.stdout
    assert "--dst-duration" not in result.stdout


@pytest.mark.parametrize(
    "size, args, code, fragment",
    [
        ((400, 300), ["--duration", "0"], 2, "'0'"),
        ((400, 300), ["--duration", "7"], 2, "'7'"),
        ((400, 300), ["--mode", "ultra"], 2, "ultra"),
        ((400, 300), [], 4, "--style is required"),
        ((800, 300), [], 4, "outside 1:2.5 to 2.5:1"),
        ((299, 400), [], 4, "short side under 300"),
    ],
)
def test_bad_image_to_video_input_fails_before_upload(
    sandbox_env, tmp_path, size, args, code, fragment
):
    _, style = style_of("image-to-video")
    style_args = [] if fragment == "--style is required" else ["--style", str(style)]
    picture = photo(tmp_path / "p.jpg", size=size)
    result = run_cli("image-to-video", str(picture), *style_args, *args)
    assert result.code == code, result.stderr
    assert fragment in result.stderr
    assert no_uploads(sandbox_env)


def test_the_aspect_ratio_ends_are_included(sandbox, paths, tmp_path):
    group, style = style_of("image-to-video")
    picture = photo(tmp_path / "wide.jpg", size=(750, 300))  # exactly 2.5:1
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [result] = yce.run("image-to-video", str(picture), {"style_ids": [style]})
    assert result.status == "success"


def test_a_clip_without_a_movie_box_is_refused_even_with_a_duration(
    sandbox_env, tmp_path, no_ffprobe
):
    video = fake_clip(tmp_path / "clip.mp4")
    for extra in ([], ["--duration", "3"]):
        result = run_cli("video-enhance", str(video), *extra, env=no_ffprobe)
        assert result.code == 4
        assert "not a readable video (it has no complete 'moov' box" in result.stderr
    assert no_uploads(sandbox_env)


def test_a_clip_whose_header_states_no_length_needs_duration(sandbox_env, tmp_path, no_ffprobe):
    video = clip(tmp_path / "clip.mp4", seconds=0)  # mvhd says 0, as a fragmented mp4 does
    result = run_cli("video-enhance", str(video), env=no_ffprobe)
    assert result.code == 4
    assert "its mp4 header does not state it" in result.stderr
    assert "--duration SECONDS" in result.stderr
    result = run_cli("video-enhance", str(video), "--duration", "61", env=no_ffprobe)
    assert result.code == 4 and "longer than the 60 s" in result.stderr
    result = run_cli("video-style", str(video), "--style", "7", "--duration", "-3", env=no_ffprobe)
    assert result.code == 4 and "below the minimum" in result.stderr
    assert no_uploads(sandbox_env)
    result = run_cli("--json", "video-enhance", str(video), "--duration", "3", env=no_ffprobe)
    assert result.code == 0, result.stderr
    [task] = sandbox_env.tasks.values()
    assert task.body["payload"]["custom"] == {"dst_duration": 3}


@pytest.mark.parametrize(
    "command, made, fragment",
    [
        ("video-enhance", {"seconds": 60.5}, "60.50 s is longer than the 60 s limit"),
        ("video-enhance", {"size": (2560, 1440)}, "2560x1440 has a long side over 1920"),
        ("video-face-swap", {"seconds": 31}, "31.00 s is longer than the 30 s limit"),
        ("video-style", {"size": (2160, 4100)}, "2160x4100 has a long side over 4096"),
    ],
)
def test_measured_limits_are_checked_before_upload(
    sandbox_env, tmp_path, no_ffprobe, command, made, fragment
):
    video = clip(tmp_path / "clip.mp4", **made)
    face = photo(tmp_path / "face.jpg")
    style = str(style_of("video-trans")[1])
    extra = {"video-face-swap": ["--face", str(face)], "video-style": ["--style", style]}
    result = run_cli(command, str(video), *extra.get(command, []), env=no_ffprobe)
    assert result.code == 4, result.stderr
    assert fragment in result.stderr
    assert no_uploads(sandbox_env)


def test_a_given_length_that_disagrees_with_the_header_is_refused(sandbox, paths, tmp_path):
    video = clip(tmp_path / "clip.mp4", seconds=14.2)
    with Yce(profile_for(sandbox), paths=paths) as yce:
        with pytest.raises(InvalidInput, match="does not match") as info:
            yce.run("video-enhance", str(video), {"duration": 12})
        assert "14.20 s" in info.value.message
        assert no_uploads(sandbox)
        # agreeing with the measurement is fine
        [result] = yce.run("video-enhance", str(video), {"duration": 14.5})
    assert result.status == "success"


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"\x00\x00\x00\x14ftypqt  " + bytes(64), "video/quicktime is not accepted"),
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png is not accepted"),
    ],
)
def test_only_mp4_clips_are_taken(sandbox_env, tmp_path, no_ffprobe, content, fragment):
    video = tmp_path / "clip.mov"
    video.write_bytes(content)
    result = run_cli("video-enhance", str(video), "--duration", "3", env=no_ffprobe)
    assert result.code == 4 and fragment in result.stderr
    assert no_uploads(sandbox_env)


def test_a_clip_of_100_mb_is_refused_without_reading_it(sandbox_env, tmp_path, no_ffprobe):
    video = fake_clip(tmp_path / "big.mp4")
    with open(video, "r+b") as fh:
        fh.truncate(100_000_000)  # sparse: nothing is written, nothing need be read
    result = run_cli("video-enhance", str(video), "--duration", "3", env=no_ffprobe)
    assert result.code == 4 and "too large" in result.stderr
    assert no_uploads(sandbox_env)


def test_video_face_swap_needs_the_face(sandbox_env, tmp_path, no_ffprobe):
    video = fake_clip(tmp_path / "clip.mp4")
    result = run_cli("video-face-swap", str(video), "--duration", "3", env=no_ffprobe)
    assert result.code == 4 and "--face is required" in result.stderr
    assert no_uploads(sandbox_env)


# --- runs ----------------------------------------------------------------------------


def test_image_to_video_makes_an_mp4_of_the_asked_length(sandbox_env, tmp_path):
    _, style = style_of("image-to-video")
    picture = photo(tmp_path / "portrait.jpg", size=(300, 400))
    result = run_cli(
        "--json", "image-to-video", str(picture), "--style", str(style), "--duration", "10"
    )
    assert result.code == 0, result.stderr
    [obj] = result.json_lines()
    out = tmp_path / f"portrait_image-to-video_style-{style}_duration-10.mp4"
    assert obj["files"] == [str(out)]
    data = out.read_bytes()
    assert data[4:8] == b"ftyp" and mp4_duration(data) == 10.0
    # its one frame is the photo in grey: clearly not AI
    frame = data[data.index(b"\xff\xd8\xff") :]
    with Image.open(io.BytesIO(frame)) as img:
        assert (img.mode, img.size) == ("L", (300, 400))
    [task] = sandbox_env.tasks.values()
    assert task.body["payload"]["custom"] == {"dst_duration": 10}
    params = task.body["payload"]["actions"][0]["params"]
    assert params["style_ids"] == [style] and isinstance(params["style_group_id"], int)


def test_video_enhance_returns_the_clip_and_sends_its_length(sandbox, paths, tmp_path, no_ffprobe):
    video = clip(tmp_path / "clip.mp4", seconds=3)
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [result] = yce.run("video-enhance", str(video), {"duration": 3}, output="out.mp4")
        assert result.files == ["out.mp4"]
        assert (tmp_path / "out.mp4").read_bytes() == video.read_bytes()
        [task] = sandbox.tasks.values()
        assert task.body["payload"]["custom"] == {"dst_duration": 3}
        assert "params" not in task.body["payload"]["actions"][0]
        # A wrong length reaches the engine only for what yce cannot measure, such as
        # an id: clip; the engine then fails the task, as the API documents.
        uploaded = "id:" + task.body["payload"]["file_sets"]["src_ids"][0]
        with pytest.raises(TaskFailed) as info:
            yce.run("video-enhance", uploaded, {"duration": 5}, output="out2.mp4")
    assert info.value.error == "error_unexpected_video_duration"
    assert "--duration" in (info.value.hint or "")
    assert not (tmp_path / "out2.mp4").exists()


def test_video_face_swap_uploads_the_face_to_an_image_endpoint(
    face_upload_route, paths, tmp_path, no_ffprobe
):
    sandbox = face_upload_route
    video = clip(tmp_path / "clip.mp4", seconds=4)
    face = photo(tmp_path / "face.jpg")
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [result] = yce.run(
            "video-face-swap", str(video), {"duration": 4}, extra_inputs={"face": str(face)}
        )
    out = tmp_path / "clip_video-face-swap_duration-4_face-face.mp4"
    assert result.files == [str(out)] and out.read_bytes() == video.read_bytes()
    uploads = [path for method, path in sandbox.requests if "/file/" in path]
    assert sorted(uploads) == ["/s2s/v1.1/file/face-swap", "/s2s/v1.1/file/face-swap-vid"]
    [task] = sandbox.tasks.values()
    file_sets = task.body["payload"]["file_sets"]
    assert sandbox.files[file_sets["ref_ids"][0]].content_type == "image/jpeg"
    assert sandbox.files[file_sets["src_ids"][0]].content_type == "video/mp4"
    assert task.body["payload"]["custom"] == {"dst_duration": 4}


def test_video_style_measures_the_clip_itself(sandbox_env, tmp_path, no_ffprobe):
    video = clip(tmp_path / "clip.mp4", seconds=12.4, size=(1280, 720))
    _, style = style_of("video-trans")
    result = run_cli("--json", "video-style", str(video), "--style", str(style), env=no_ffprobe)
    assert result.code == 0, result.stderr
    [obj] = result.json_lines()
    assert Path(obj["files"][0]).read_bytes() == video.read_bytes()
    [task] = sandbox_env.tasks.values()
    # 12.4 s rounds up: never ask for less video than the clip holds
    assert task.body["payload"]["custom"] == {"dst_duration": 13}
    assert task.body["payload"]["actions"][0]["params"]["style_ids"] == [style]


def test_each_clip_is_measured_on_its_own(sandbox, paths, tmp_path):
    first = clip(tmp_path / "a.mp4", seconds=2)
    second = clip(tmp_path / "b.mp4", seconds=5)
    with Yce(profile_for(sandbox), paths=paths) as yce:
        reports = yce.run("video-enhance", [str(first), str(second)], {})
    assert [r.status for r in reports] == ["success", "success"]
    bodies = sorted(
        task.body["payload"]["custom"]["dst_duration"] for task in sandbox.tasks.values()
    )
    assert bodies == [2, 5]


def test_the_mp4_writer_states_its_length():
    data = still_mp4(b"\xff\xd8\xff\xd9", 2, 2, 7)
    assert mp4_duration(data) == 7.0
    assert mp4_duration(data[:40]) is None  # no moov: the length is unknown
    assert mp4_duration(b"\x00\x00\x00\x18ftypmp42" + bytes(64)) is None
