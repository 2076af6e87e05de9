"""The sandbox refuses what 003 forbids, with 003's codes, even when yce's own checks
are bypassed.

Every test here talks to the sandbox's real socket with the library's low-level pieces
(Client, create_upload_slots/put_file, Feature.build_body, submit/check_status) and
none of yce's input checks, so the sandbox alone decides. Input limits are engine
errors in 003 (each feature's "Error Codes" table, reported in the status `error`):
the task ends with status "error", its code, and no charge. Limits on the declared
file size and on parameters are refused with the request (HTTP 400).

Each rule has a compliant twin that succeeds, so a rule cannot pass by refusing all.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.conftest import profile_for, run_cli
from ycecli.api import Yce
from ycecli.client import Client
from ycecli.errors import ApiError
from ycecli.features import get_feature
from ycecli.sandbox.engines.video import still_mp4
from ycecli.sandbox.styles import CATALOG
from ycecli.tasks import TaskStatus, check_status, submit, task_path
from ycecli.transfer import create_upload_slots, put_file
from ycecli.validate import sniff_content_type

# -- inputs -------------------------------------------------------------------------


def picture(path: Path, width: int, height: int, fmt: str = "JPEG") -> Path:
    Image.new("RGB", (width, height), (120, 30, 200)).save(path, format=fmt)
    return path


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _audio_track(codec: bytes) -> bytes:
    """A `trak` with a sound handler and one sample entry of `codec` (no samples)."""
    hdlr = _box(b"hdlr", bytes(8) + b"soun" + bytes(12) + b"SoundHandler\x00")
    stsd = _box(b"stsd", struct.pack(">II", 0, 1) + _box(codec, bytes(28)))
    minf = _box(b"minf", _box(b"stbl", stsd))
    return _box(b"trak", _box(b"mdia", hdlr + minf))


def clip(
    path: Path,
    seconds: float = 3,
    size: tuple[int, int] = (64, 48),
    codec: bytes = b"avc1",
    audio: bytes | None = None,
    brand: bytes = b"isom",
) -> Path:
    """A tiny movie that states its length, size and codecs in its headers (the engine
    judges a clip by them, 003:399-401; it never decodes a frame)."""
    frame = io.BytesIO()
    Image.new("L", (8, 8), 90).save(frame, format="JPEG")
    data = still_mp4(frame.getvalue(), size[0], size[1], seconds, codec=codec)
    data = data[:8] + brand + data[12:]
    if audio is not None:
        moov = data.rindex(b"moov") - 4
        data = data[:moov] + _box(b"moov", data[moov + 8 :] + _audio_track(audio))
    path.write_bytes(data)
    return path


def padded_jpeg(path: Path, total: int) -> Path:
    """A real JPEG followed by filler up to `total` bytes (decoders stop at its end)."""
    data = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(data, format="JPEG")
    path.write_bytes(data.getvalue().ljust(total, b"\0"))
    return path


# -- the API, without yce's checks ------------------------------------------------------


class Api:
    """One account on the sandbox, driven by the library's low-level pieces."""

    def __init__(self, sandbox, paths) -> None:
        self.sandbox = sandbox
        self.client = Client(profile_for(sandbox), paths)
        self.request_id = 0

    def upload(self, command: str, path: Path, *, to: str | None = None, as_type: str = "") -> str:
        """Upload through `command`'s upload endpoint (or the path `to`), declaring the
        sniffed type unless `as_type` says otherwise; returns the file id."""
        feature = get_feature(command)
        content_type = as_type or sniff_content_type(path.read_bytes()[:32])
        [slot] = create_upload_slots(
            self.client,
            to or feature.upload_url_path,
            [(path.name, content_type, path.stat().st_size)],
            generation=feature.generation,
        )
        put_file(self.client, slot, path, None)
        return slot.file_id

    def run(self, command: str, file_ids: dict, params: dict) -> TaskStatus:
        """Start a task with the body the registry builds, and poll it to its end."""
        feature = get_feature(command)
        request_id = self.request_id if feature.generation == "v1" else None
        self.request_id += 1
        body = feature.build_body(request_id, file_ids, params)
        path = task_path(feature, self.client.profile)
        task_id = submit(self.client, feature, body, path)
        deadline = self.sandbox.clock.now() + 10
        while True:
            status = check_status(self.client, feature, task_id, path)
            if status.status != "running" or self.sandbox.clock.now() > deadline:
                return status
            self.client.sleep(0.02)  # the tests' virtual clock (tests/conftest.py)

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def api(sandbox, paths):
    # Nothing here is about timing: the engine answers at once, and polls follow fast.
    sandbox.config.task_seconds = 0.02
    session = Api(sandbox, paths)
    yield session
    session.close()


def style(slug: str) -> dict:
    group = CATALOG.feature(slug).groups[0]
    return {"style_group_id": group.id, "style_ids": [group.styles[0].id]}


def params_for(command: str) -> dict:
    """Parameters the sandbox takes as valid, so that only the inputs are on trial."""
    feature = get_feature(command)
    fixed = {
        "enhance": {"scale": 1},
        "hair-color": {"preset": "Lavender"},
        "replace": {"prompt": "a vase"},
        "face-swap": {"face_mapping": [{"index": 0, "position": 0}]},
        "face-analyze": {"feature": ["eyeShape"]},
        "skin-analysis": {"dst_actions": ["wrinkle", "pore", "texture", "acne"]},
        "video-enhance": {"dst_duration": 3},
        "video-face-swap": {"dst_duration": 3},
        "video-style": {"dst_duration": 3},
        "image-to-video": {"dst_duration": 5},
        "extend": {
            "output_width": 200,
            "output_height": 100,
            "input_x": 0,
            "input_y": 0,
            "input_width": 100,
            "input_height": 50,
            "crop_input_x": 0,
            "crop_input_y": 0,
            "crop_input_width": 100,
            "crop_input_height": 50,
        },
    }.get(command, {})
    if feature.styles:
        fixed = {**style(feature.slug), **fixed}
    if command in ("headshot", "avatar", "studio"):
        fixed["output_count"] = 1
    return fixed


def run_with(api, command: str, inputs: dict[str, list[Path]], params: dict | None = None):
    """Upload each input where the registry says it goes, then run the task."""
    specs = {spec.name: spec for spec in get_feature(command).inputs}
    file_ids = {
        name: [api.upload(command, path, to=specs[name].upload_path) for path in paths]
        for name, paths in inputs.items()
    }
    return api.run(command, file_ids, params if params is not None else params_for(command))


def assert_refused(sandbox, status: TaskStatus, code: str) -> None:
    assert (status.status, status.error) == ("error", code), status.error_message
    assert status.error_message  # says which input broke which rule
    assert sandbox.charges() == []  # "no unit will be consumed" (003:360)


def assert_done(sandbox, status: TaskStatus) -> None:
    assert status.status == "success", (status.error, status.error_message)
    assert len(sandbox.charges()) == 1


# -- image size rules (engine errors) ---------------------------------------------------

TOO_LARGE = "error_exceed_max_image_size"  # 003:1170, 003:2360, 003:15626
TOO_SMALL = "error_below_min_image_size"  # 003:1169, 003:1933, 003:2359, 003:15625
MASKED = {"replace", "obj-remove"}
WIDE = ((4097, 64), (4096, 64))  # one pixel over "long side <= 4096", and at it

# (rule, command, input on trial, (refused size, compliant size), expected code).
# "skin-hd" is skin analysis with HD concerns, "clothes-garment" clothes with a garment.
IMAGE_RULES = [
    # The general table, "Input: long side <= 4096" (003:380-390, 003:394-395).
    *[
        (f"{command} long side <= 4096", command, "source", WIDE, TOO_LARGE)
        for command in (
            "enhance",
            "bg-remove",
            "colorize",
            "color-correct",
            "extend",
            "replace",
            "obj-remove",
            "bg-change",
            "bg-blur",
            "avatar",
            "face-swap",
        )
    ],
    ("face-swap ref long side <= 4096", "face-swap", "ref", WIDE, TOO_LARGE),
    # 003:383 "long side <= 4096, short side >= 256".
    ("lighting long side <= 4096", "lighting", "source", ((4097, 256), (4096, 256)), TOO_LARGE),
    ("lighting short side >= 256", "lighting", "source", ((255, 400), (256, 400)), TOO_SMALL),
    # 003:1158-1161: SD long <= 1920, short >= 480; HD long <= 2560, short >= 1080.
    (
        "skin SD long side <= 1920",
        "skin-analysis",
        "source",
        ((1080, 2400), (1080, 1920)),
        TOO_LARGE,
    ),
    ("skin SD short side >= 480", "skin-analysis", "source", ((479, 640), (480, 640)), TOO_SMALL),
    ("skin HD long side <= 2560", "skin-hd", "source", ((1080, 2561), (1080, 2560)), TOO_LARGE),
    ("skin HD short side >= 1080", "skin-hd", "source", ((720, 960), (1080, 1440)), TOO_SMALL),
    # 003:1927 "long side <= 4096", 003:1933 "at least 100x100".
    (
        "face-analyze long side <= 4096",
        "face-analyze",
        "source",
        ((4097, 100), (4096, 100)),
        TOO_LARGE,
    ),
    ("face-analyze at least 100x100", "face-analyze", "source", ((99, 120), (100, 100)), TOO_SMALL),
    # 003:2353 "long side < 1920"; 003:2359-2360 "width >= 100px, height >= 100px",
    # "width < 1920px, height < 1080px".
    (
        "hair-color long side < 1920",
        "hair-color",
        "source",
        ((2000, 1000), (1919, 1079)),
        TOO_LARGE,
    ),
    ("hair-color height < 1080", "hair-color", "source", ((1000, 1500), (1000, 1079)), TOO_LARGE),
    ("hair-color at least 100x100", "hair-color", "source", ((99, 200), (100, 100)), TOO_SMALL),
    # 003:2739, 3498, 4262, 5022, 5781: "long side <= 1024".
    *[
        (f"{command} long side <= 1024", command, "source", ((1025, 512), (1024, 512)), TOO_LARGE)
        for command in ("hair-style", "hair-ext", "hair-bang", "hair-volume", "hair-curl")
    ],
    # 003:12942 "1024x1024 (long side <= 1024)", for the face and the look alike.
    *[
        (
            f"makeup {name} long side <= 1024",
            "makeup-transfer",
            name,
            ((1025, 64), (1024, 64)),
            TOO_LARGE,
        )
        for name in ("source", "ref")
    ],
    # 003:15619 "a short side of at least 200 pixels, and a long side no greater than 1920".
    ("studio short side >= 200", "studio", "source", ((199, 400), (200, 400)), TOO_SMALL),
    ("studio long side <= 1920", "studio", "source", ((1000, 1921), (1000, 1920)), TOO_LARGE),
    # 003:14113 gives headshot no input maximum; the registry keeps 4096 (see its note).
    ("headshot long side <= 4096", "headshot", "source", WIDE, TOO_LARGE),
    # 003:6488, 003:7154 "long side <= 4096".
    ("clothes long side <= 4096", "clothes", "source", WIDE, TOO_LARGE),
    ("fabric long side <= 4096", "fabric", "source", WIDE, TOO_LARGE),
    # 003:6438 "minimum 512x384", both images of a garment try-on.
    *[
        (f"clothes garment {name} >= 512x384", "clothes-garment", name, (bad, good), TOO_SMALL)
        for name, bad, good in (
            ("source", (500, 383), (512, 384)),
            ("garment", (511, 384), (384, 512)),
        )
    ],
    # 003:16383 ">= 300*300px with aspect ratio between 1:2.5 ~ 2.5:1"; 003:432.
    (
        "image-to-video at least 300x300",
        "image-to-video",
        "source",
        ((299, 400), (300, 300)),
        TOO_SMALL,
    ),
    (
        "image-to-video ratio within 2.5:1",
        "image-to-video",
        "source",
        ((751, 300), (750, 300)),
        "error_unsupport_ratio",
    ),
    # 003:400: the face photo of a video face swap (an AI Face Swap image, 003:395).
    ("video-face-swap face long side <= 4096", "video-face-swap", "face", WIDE, TOO_LARGE),
    # 000:141, 001:128 "long side <= 4096"; PHOTO_CHECK_INVALID (000:150, 001:137) names
    # the user photo's size, the product image has only INPUT_ERROR (000:151, 001:138).
    ("ring hand long side <= 4096", "ring-vto", "source", WIDE, "PHOTO_CHECK_INVALID"),
    ("ring product long side <= 4096", "ring-vto", "product", WIDE, "INPUT_ERROR"),
    ("earring selfie long side <= 4096", "earring-vto", "source", WIDE, "PHOTO_CHECK_INVALID"),
    ("earring product long side <= 4096", "earring-vto", "product", WIDE, "INPUT_ERROR"),
]

# Compliant companions of the input on trial, per (pseudo-)command.
COMPANIONS = {
    "face-swap": {"source": (128, 64), "ref": (64, 64)},
    "makeup-transfer": {"source": (64, 64), "ref": (64, 64)},
    "clothes-garment": {"source": (512, 768), "garment": (512, 384)},
    "video-face-swap": {"face": (64, 64)},
    "ring-vto": {"source": (64, 64), "product": (64, 64)},
    "earring-vto": {"source": (64, 64), "product": (64, 64)},
}


def run_image_case(api, tmp_path, pseudo: str, name: str, size: tuple[int, int]) -> TaskStatus:
    """Run `pseudo`'s feature with input `name` of `size` and compliant companions."""
    command = {"skin-hd": "skin-analysis", "clothes-garment": "clothes"}.get(pseudo, pseudo)
    params = params_for(command)
    if pseudo == "skin-hd":
        params["dst_actions"] = ["hd_wrinkle", "hd_pore", "hd_texture", "hd_acne"]
    if pseudo == "clothes-garment":
        params = {"garment_category": "upper_body"}
    sizes = {**COMPANIONS.get(pseudo, {}), name: size}
    inputs = {key: [picture(tmp_path / f"{key}.jpg", *wh)] for key, wh in sizes.items()}
    if pseudo == "video-face-swap":
        inputs["source"] = [clip(tmp_path / "clip.mp4")]
    if command in MASKED:
        inputs["mask"] = [picture(tmp_path / "mask.png", *sizes["source"], "PNG")]
    return run_with(api, command, inputs, params)


@pytest.mark.parametrize(
    "rule, pseudo, name, sizes, code", IMAGE_RULES, ids=[c[0] for c in IMAGE_RULES]
)
def test_image_size_rules_fail_the_task_with_the_documented_code(
    sandbox, api, tmp_path, rule, pseudo, name, sizes, code
):
    assert_refused(sandbox, run_image_case(api, tmp_path, pseudo, name, sizes[0]), code)


@pytest.mark.parametrize(
    "rule, pseudo, name, sizes, code", IMAGE_RULES, ids=[c[0] for c in IMAGE_RULES]
)
def test_image_size_rules_let_a_compliant_input_through(
    sandbox, api, tmp_path, rule, pseudo, name, sizes, code
):
    assert_done(sandbox, run_image_case(api, tmp_path, pseudo, name, sizes[1]))


def test_the_garment_minimum_does_not_apply_to_a_predefined_outfit(sandbox, api, tmp_path):
    # 003:6438 states it under "For Custom Clothing Virtual Try-On" only.
    status = run_with(api, "clothes", {"source": [picture(tmp_path / "p.jpg", 500, 383)]})
    assert_done(sandbox, status)


# -- formats (engine errors) -----------------------------------------------------------------

# 003:2739, 3498 (hair style, extension), 003:14113 (headshot), 003:1927 (face
# analyzer), 003:6488 and 003:7154 (clothes, fabric) list "jpg/jpeg" only, although
# their upload enums take image/png: the upload succeeds, the engine cannot decode it.
JPEG_ONLY = ("hair-style", "hair-ext", "headshot", "face-analyze", "clothes", "fabric")


@pytest.mark.parametrize("fmt, ok", [("PNG", False), ("JPEG", True)])
@pytest.mark.parametrize("command", JPEG_ONLY)
def test_jpeg_only_features_refuse_a_png(sandbox, api, tmp_path, command, fmt, ok):
    photo = picture(tmp_path / "photo.img", 200, 200, fmt)
    status = run_with(api, command, {"source": [photo]})
    if ok:
        assert_done(sandbox, status)
    else:
        assert_refused(sandbox, status, "error_decode_image")


@pytest.mark.parametrize("fmt, ok", [("GIF", False), ("PNG", True)])
def test_a_mask_in_another_format_is_error_decode_mask(sandbox, api, tmp_path, fmt, ok):
    # 003:416 error_decode_mask; the upload enum is jpg/jpeg/png (003:7908), and a GIF
    # declared as image/png passes the upload, as it would at S3.
    photo = picture(tmp_path / "photo.jpg", 64, 48)
    mask = picture(tmp_path / "mask.img", 64, 48, fmt)
    file_ids = {
        "source": [api.upload("obj-remove", photo)],
        "mask": [api.upload("obj-remove", mask, as_type="image/png")],
    }
    status = api.run("obj-remove", file_ids, {})
    if ok:
        assert_done(sandbox, status)
    else:
        assert_refused(sandbox, status, "error_decode_mask")


@pytest.mark.parametrize("kind, ok", [("clip", False), ("photo", True)])
def test_an_image_feature_given_a_clip_is_error_decode_image(sandbox, api, tmp_path, kind, ok):
    # File ids serve any feature (003:368), so a clip's id can reach enhance.
    if kind == "clip":
        file_id = api.upload("video-enhance", clip(tmp_path / "clip.mp4"))
    else:
        file_id = api.upload("enhance", picture(tmp_path / "photo.jpg", 64, 48))
    status = api.run("enhance", {"source": [file_id]}, {"scale": 1})
    if ok:
        assert_done(sandbox, status)
    else:
        assert_refused(sandbox, status, "error_decode_image")


# -- video rules --------------------------------------------------------------------------

CLIPS = {"video-enhance": (60, 1920), "video-face-swap": (30, 4096), "video-style": (30, 4096)}


def run_clip(api, tmp_path, command: str, video: Path, seconds: int):
    """A clip task; the clip is declared video/mp4, the only type the upload enum has
    (a .mov included: the table lists its container, 003:399-401)."""
    file_ids = {"source": [api.upload(command, video, as_type="video/mp4")]}
    if command == "video-face-swap":
        face = picture(tmp_path / "face.jpg", 64, 64)
        file_ids["face"] = [api.upload("face-swap", face)]
    params = {**params_for(command), "dst_duration": seconds}
    return api.run(command, file_ids, params)


@pytest.mark.parametrize("command", sorted(CLIPS))
def test_a_video_source_that_is_an_image_is_error_decode_video(sandbox, api, tmp_path, command):
    # The upload enum is video/mp4 only (003:17149), but S3 never looks at the bytes:
    # a JPEG uploaded as video/mp4 reaches the engine, which cannot decode it (003:418).
    photo = picture(tmp_path / "photo.jpg", 64, 48)
    file_ids = {"source": [api.upload(command, photo, as_type="video/mp4")]}
    if command == "video-face-swap":
        file_ids["face"] = [api.upload("face-swap", picture(tmp_path / "f.jpg", 64, 64))]
    params = {**params_for(command), "dst_duration": 3}
    assert_refused(sandbox, api.run(command, file_ids, params), "error_decode_video")


def test_a_video_source_may_be_an_image_file_id_from_elsewhere_and_still_fail(
    sandbox, api, tmp_path
):
    photo_id = api.upload("face-swap", picture(tmp_path / "photo.jpg", 64, 48))
    status = api.run("video-enhance", {"source": [photo_id]}, {"dst_duration": 3})
    assert_refused(sandbox, status, "error_decode_video")


@pytest.mark.parametrize(
    "variant, ok",
    [
        ({"codec": b"hvc1"}, False),  # H.265: not in "MPEG-4, H.264 AVC"
        ({"codec": b"jpeg"}, False),  # Motion JPEG
        ({"audio": b"Opus"}, False),  # not in "aac, mp3"
        ({"codec": b"avc1", "audio": b"mp4a"}, True),
        ({"codec": b"mp4v", "audio": b".mp3"}, True),
        ({"brand": b"qt  "}, True),  # "container: mov, mp4"
    ],
)
def test_clip_codecs_and_containers_are_those_of_the_table(sandbox, api, tmp_path, variant, ok):
    # 003:399 "container: mov, mp4; video codec: MPEG-4, H.264 AVC; audio codec: aac, mp3"
    status = run_clip(api, tmp_path, "video-enhance", clip(tmp_path / "c.mp4", **variant), 3)
    if ok:
        assert_done(sandbox, status)
    else:
        assert_refused(sandbox, status, "error_decode_video")


def test_a_clip_without_a_movie_header_is_error_decode_video(sandbox, api, tmp_path):
    headless = tmp_path / "clip.mp4"
    headless.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    status = run_clip(api, tmp_path, "video-enhance", headless, 3)
    assert_refused(sandbox, status, "error_decode_video")


@pytest.mark.parametrize("over, ok", [(1, False), (0, True)])
@pytest.mark.parametrize("command", sorted(CLIPS))
def test_clip_resolution_limits(sandbox, api, tmp_path, command, over, ok):
    # 003:399 "input: long side <= 1920"; 003:400-401 "input: long side <= 4096".
    long_side = CLIPS[command][1] + over
    video = clip(tmp_path / "c.mp4", size=(long_side, 64))
    status = run_clip(api, tmp_path, command, video, 3)
    if ok:
        assert_done(sandbox, status)
    else:
        assert_refused(sandbox, status, TOO_LARGE)


@pytest.mark.parametrize("beyond, ok", [(0.6, False), (0, True)])
@pytest.mark.parametrize("command", sorted(CLIPS))
def test_a_clip_longer_than_the_limit_fails_the_task(sandbox, api, tmp_path, command, beyond, ok):
    # 003:399-401 "up to 60 sec" / "up to 30 sec". Sent with the largest dst_duration
    # the request allows, a longer clip is an engine error: 003's one code about a
    # clip's length, error_unexpected_video_duration (003:430).
    limit = CLIPS[command][0]
    video = clip(tmp_path / "c.mp4", seconds=limit + beyond)
    status = run_clip(api, tmp_path, command, video, limit)
    if ok:
        assert_done(sandbox, status)
    else:
        assert_refused(sandbox, status, "error_unexpected_video_duration")


@pytest.mark.parametrize("command", sorted(CLIPS))
def test_a_dst_duration_over_the_limit_is_refused_with_the_request(sandbox, api, tmp_path, command):
    # A 31 s clip sent honestly as dst_duration 31 (61 for video enhance): the output
    # would exceed "up to 30/60 sec", an out-of-range parameter (HTTP 400).
    limit = CLIPS[command][0]
    with pytest.raises(ApiError) as info:
        run_clip(api, tmp_path, command, clip(tmp_path / "c.mp4", seconds=limit + 1), limit + 1)
    assert (info.value.http_status, info.value.error_code) == (400, "InvalidParameters")
    assert "dst_duration" in info.value.error
    assert sandbox.tasks == {} and sandbox.charges() == []


def test_a_dst_duration_other_than_the_clips_length_fails_the_task(sandbox, api, tmp_path):
    # 003:430 "Video durateion is not equal to the dstDuration".
    status = run_clip(api, tmp_path, "video-enhance", clip(tmp_path / "c.mp4", seconds=3), 5)
    assert_refused(sandbox, status, "error_unexpected_video_duration")


# -- file sizes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command, size, ok",
    [
        ("enhance", 10_000_000, False),
        ("enhance", 9_999_999, True),
        ("video-enhance", 100_000_000, False),
        ("video-enhance", 99_999_999, True),
    ],
)
def test_the_declared_file_size_is_refused_with_the_upload_request(api, command, size, ok):
    # file_size: "Should not be larger than 10MB" (100MB for video, 003:17149), and the
    # tables say "< 10MB": the stricter reading, the registry's limit (spec.TEN_MB).
    feature = get_feature(command)
    ctype = feature.primary_input.rules.content_types[0]
    files = [("x", ctype, size)]
    if ok:
        assert create_upload_slots(api.client, feature.upload_url_path, files)
        return
    with pytest.raises(ApiError) as info:
        create_upload_slots(api.client, feature.upload_url_path, files)
    assert (info.value.http_status, info.value.error_code) == (400, "InvalidParameters")


@pytest.mark.parametrize("command", ["enhance", "clothes"])
@pytest.mark.parametrize("size, ok", [(10_000_000, False), (9_999_999, True)])
def test_a_file_over_10_mb_that_reaches_the_engine_is_exceed_max_filesize(
    sandbox, api, tmp_path, command, size, ok
):
    # A file id from the video endpoint (which takes up to 100MB) reaches an image
    # feature: the engine's own limit answers, exceed_max_filesize (003:411, 003:6498).
    big = padded_jpeg(tmp_path / "big.jpg", size)
    file_id = api.upload("video-enhance", big, as_type="video/mp4")
    status = api.run(command, {"source": [file_id]}, params_for(command))
    if ok:
        assert_done(sandbox, status)
    else:
        assert_refused(sandbox, status, "exceed_max_filesize")


def test_a_v2_photo_in_another_format_is_input_error(sandbox, api, tmp_path):
    # 000:151, 001:138 "INPUT_ERROR: The input file format is incorrect".
    gif = picture(tmp_path / "hand.img", 64, 64, "GIF")
    file_ids = {
        "source": [api.upload("ring-vto", gif, as_type="image/png")],
        "product": [api.upload("ring-vto", picture(tmp_path / "ring.jpg", 64, 64))],
    }
    assert_refused(sandbox, api.run("ring-vto", file_ids, {}), "INPUT_ERROR")


# -- presigned storage ----------------------------------------------------------------------


def result_url(sandbox, api, tmp_path) -> str:
    status = run_with(api, "enhance", {"source": [picture(tmp_path / "p.jpg", 64, 48)]})
    assert_done(sandbox, status)
    return status.results[0].url


@pytest.mark.parametrize(
    "headers, status_code",
    [({"Authorization": "Bearer some-access-token"}, 400), ({}, 200)],
)
def test_downloads_refuse_a_second_auth_mechanism_as_s3_does(
    sandbox, api, tmp_path, headers, status_code
):
    url = result_url(sandbox, api, tmp_path)
    reply = requests.get(url, headers=headers, timeout=10)
    assert reply.status_code == status_code
    if status_code == 400:
        assert reply.headers["Content-Type"] == "application/xml"
        assert "<Code>InvalidArgument</Code>" in reply.text
        assert "Only one auth mechanism allowed" in reply.text


def test_yce_sends_no_authorization_to_storage(sandbox, paths, tmp_path):
    photo = picture(tmp_path / "p.jpg", 64, 48)
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [result] = yce.run("enhance", str(photo), {"scale": 1}, output=tmp_path / "o.jpg")
    assert result.status == "success"
    assert sandbox.upload_log and sandbox.download_log
    for headers in (*sandbox.upload_log, *sandbox.download_log):
        assert "Authorization" not in headers


# -- yce refuses the same clips before uploading them ---------------------------------------

# The clip rules are read from the mp4 headers by ycecli.validate, the same declaration
# the engine applies, so they hold without ffprobe (which used to be the only way yce
# could see a clip's length or size, and which never looked at its codecs).


@pytest.mark.parametrize(
    "variant, duration, fragment",
    [
        ({"codec": b"hvc1"}, "3", "its video is 'hvc1', not H.264/MPEG-4"),
        ({"audio": b"Opus"}, "3", "its audio is 'Opus', not aac/mp3"),
        ({"size": (1921, 1080)}, "3", "1921x1080 has a long side over 1920"),
        ({"seconds": 60.5}, "60", "60.50 s is longer than the 60 s limit"),
    ],
)
def test_yce_refuses_such_clips_before_upload_without_ffprobe(
    sandbox_env, tmp_path, variant, duration, fragment
):
    empty = tmp_path / "no-ffprobe"
    empty.mkdir()
    video = clip(tmp_path / "clip.mp4", **variant)
    result = run_cli("video-enhance", str(video), "--duration", duration, env={"PATH": str(empty)})
    assert result.code == 4, result.stderr
    assert fragment in result.stderr
    assert not [path for _, path in sandbox_env.requests if "/file/" in path]
