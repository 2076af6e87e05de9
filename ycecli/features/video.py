"""Video features (003): image to video, and three features that take an mp4 clip
(video enhance, video face swap, video style transfer).

The clip features must send `custom.dst_duration` equal to the clip's real length
(003:430, error_unexpected_video_duration); the `video_duration` hook reads it from
the clip's mp4 header, or takes it from --duration where the header cannot tell (an
id: input, a fragmented mp4).
"""

from __future__ import annotations

from ycecli.features.spec import (
    AAC_OR_MP3,
    H264_OR_MPEG4,
    HUNDRED_MB,
    IMAGE_4096,
    VIDEO_CODES,
    VIDEO_CONTENT_TYPES,
    Feature,
    InputSpec,
    MediaRules,
    Param,
    style_params,
)


def _clip_rules(max_seconds: float, max_long_side: int, row: str) -> MediaRules:
    # 003:399-401: "<100MB | container: mov, mp4; video codec: MPEG-4, H.264 AVC; audio
    # codec: aac, mp3". The length limit is given as the output's ("up to 60/30 sec");
    # the output is as long as the clip (dst_duration equals it), so the clip may be no
    # longer. The upload enum takes only video/mp4, so only mp4 is declared.
    return MediaRules(
        content_types=VIDEO_CONTENT_TYPES,
        max_bytes=HUNDRED_MB,
        max_long_side=max_long_side,
        max_seconds=max_seconds,
        video_codecs=H264_OR_MPEG4,
        audio_codecs=AAC_OR_MP3,
        codes=VIDEO_CODES,
        note=f"input: long side <= {max_long_side}, up to {max_seconds:g} sec ({row})",
    )


VIDEO_SR_CLIP = _clip_rules(60.0, 1920, "003:399")
FACE_SWAP_CLIP = _clip_rules(30.0, 4096, "003:400")
STYLE_CLIP = _clip_rules(30.0, 4096, "003:401")


# Duration and resolution limits per slug, for the `video_duration` hook's own
# check (the same numbers, read from the declarations above).
def _limits(rules: MediaRules) -> tuple[float, int]:
    assert rules.max_seconds is not None and rules.max_long_side is not None
    return rules.max_seconds, rules.max_long_side


CLIP_LIMITS: dict[str, tuple[float, int]] = {
    slug: _limits(rules)
    for slug, rules in (
        ("video-sr", VIDEO_SR_CLIP),
        ("face-swap-vid", FACE_SWAP_CLIP),
        ("video-trans", STYLE_CLIP),
    )
}

_VIDEO_HINTS = {
    "error_unexpected_video_duration": "custom.dst_duration did not match the clip's "
    "length, or the clip is longer than this feature takes: leave out --duration so that "
    "yce reads the length from the clip, or trim a long clip.",
    "error_exceed_max_image_size": "The clip's frame is larger than this feature takes: "
    "scale it down.",
    "error_download_video": "The engine could not fetch the uploaded clip; run it again.",
    "error_decode_video": "The clip cannot be decoded: use an mp4 with H.264 (or MPEG-4) "
    "video and aac or mp3 audio.",
}


def _duration_options(max_seconds: float) -> tuple[Param, ...]:
    return (
        # Kept for what yce cannot measure: an id: input (no bytes here) and a
        # fragmented mp4 (its header states no length). Checked against the header
        # when the header tells.
        # Its limit is checked by the hook, with the same slack as a measured length.
        Param(
            name="duration",
            kind="float",
            send=False,
            minimum=0.0,
            exclusive_minimum=True,
            metavar="SECONDS",
            help=f"The clip's length in seconds (at most {max_seconds:g}), needed for an "
            "id: clip or one whose header states no length (default: read from the clip).",
        ),
        # Filled per clip by the `video_duration` hook. The output is as long as this,
        # and the output is "up to 60/30 sec" (003:399-401): a longer value is an
        # out-of-range parameter, refused with the run request like any other.
        Param(
            name="dst_duration",
            kind="int",
            path=("custom",),
            cli=False,
            required=True,
            minimum=1,
            maximum=max_seconds,
            help="The length of the video in seconds (must equal the clip's).",
        ),
    )


def _style_params(what: str) -> tuple[Param, ...]:
    # "Only accept 1 style." (003:16797, 003:18418)
    return style_params(
        f"Style of the {what}; see `yce styles list`.",
        group_help=f"Style group of the {what} (default: looked up from --style).",
        metavar="ID",
    )


IMAGE_TO_VIDEO = Feature(
    command="image-to-video",
    slug="image-to-video",
    title="AI Image to Video Generator",
    summary="Animate a photo into a 5 or 10 second video in a chosen style.",
    group="Video",
    seed_lines="003:16361-17021; sample 003:16797; limits 003:16383-16384",
    inputs=(
        InputSpec(
            name="source",
            field="src_ids",
            help="Photo to animate, a clear portrait on a clean background, at least "
            "300x300 with an aspect ratio between 1:2.5 and 2.5:1: a path, an http(s) URL, "
            "or id:<file_id>.",
            positional=True,
            # The table gives a minimum and an aspect ratio but no maximum side
            # (003:16383). The ratio's code is error_unsupport_ratio (003:432).
            rules=MediaRules(
                max_long_side=None,
                min_short_side=300,
                max_aspect_ratio=2.5,
                note=">= 300x300, aspect ratio 1:2.5 to 2.5:1 (003:16383)",
            ),
        ),
    ),
    params=(
        *_style_params("video"),
        Param(
            name="mode",
            kind="str",
            choices=("std", "pro"),
            help="Quality mode: std is faster (up to 720p), pro is richer (up to 1080p) "
            "(default: the best mode for the style).",
        ),
        # 003:16797 requires it with no default, and its sample sends 0, which the
        # description forbids ("Only accept 5 or 10 seconds"): a sample defect, and 0
        # is refused here. 5 is the CLI's default: the shorter clip of the two.
        Param(
            name="dst_duration",
            kind="int",
            path=("custom",),
            option="--duration",
            choices=(5, 10),
            default=5,
            required=True,
            help="Length of the video in seconds.",
        ),
    ),
    styles=True,
    # The prepare hook refuses a missing --style at once, with a pointer to the style
    # lists, before any file is read or measured.
    hooks={"prepare": "video_style_required", "check_job": "i2v_check_job"},
    result="video",
    sandbox_result="image_to_video",
    error_hints={
        "error_unsupport_ratio": "The photo's aspect ratio must be between 1:2.5 and 2.5:1; "
        "crop it.",
        "error_below_min_image_size": "The photo must be at least 300x300 pixels.",
    },
    examples=(
        "yce image-to-video portrait.jpg --style <style_id>",
        "yce image-to-video portrait.jpg --style <style_id> --mode pro --duration 10",
        "yce --json image-to-video a.jpg b.png --style <style_id> -o clips/",
    ),
)

VIDEO_ENHANCE = Feature(
    command="video-enhance",
    slug="video-sr",
    title="AI Video Enhance",
    summary="Sharpen and upscale a video clip (mp4, up to 60 s, long side <= 1920).",
    group="Video",
    seed_lines="003:17022-17479; sample 003:17266; limits 003:399",
    inputs=(
        InputSpec(
            name="source",
            field="src_ids",
            help="mp4 clip, up to 60 s, long side <= 1920 (H.264 or MPEG-4 video, aac or "
            "mp3 audio): a path, an http(s) URL, or id:<file_id>.",
            positional=True,
            rules=VIDEO_SR_CLIP,
        ),
    ),
    # `custom` is not marked required here (unlike the other video features), but the
    # sample sends it and the engine compares the clip with it: always sent.
    params=_duration_options(_limits(VIDEO_SR_CLIP)[0]),
    action_params=False,  # the action has no `params` (003:17266)
    hooks={"job_params": "video_duration"},
    result="video",
    sandbox_result="video_copy",
    error_hints=_VIDEO_HINTS,
    examples=(
        "yce video-enhance clip.mp4",
        "yce video-enhance clip.mp4 --duration 12 -o sharp.mp4",
        "yce --json video-enhance a.mp4 b.mp4 -o enhanced/",
    ),
)

VIDEO_FACE_SWAP = Feature(
    command="video-face-swap",
    slug="face-swap-vid",
    title="AI Video Face Swap",
    summary="Put the face of a photo onto the one person in a video clip.",
    group="Video",
    seed_lines="003:17480-17896; sample 003:17726; limits 003:400",
    inputs=(
        InputSpec(
            name="source",
            field="src_ids",
            help="mp4 clip with a single face, up to 30 s, long side <= 4096: a path, an "
            "http(s) URL, or id:<file_id>.",
            positional=True,
            rules=FACE_SWAP_CLIP,
        ),
        # `ref_ids` is an image (003:17726), but this feature's own upload endpoint
        # takes only video/mp4 (its enum has the one value). The doc names no other
        # place for it, so it goes to the image endpoint of the same product, AI Face
        # Swap (/file/face-swap, 003:13529): it takes face photos (jpg/jpeg/png, < 10MB,
        # long side <= 4096, 003:395), and file ids are used across features (a
        # result's dst_id feeds other tasks). Declaring the photo as video/mp4, or an
        # image type the endpoint's enum does not list, would be refused or misread.
        InputSpec(
            name="face",
            field="ref_ids",
            option="--face",
            help="Photo of the face to put in the video, one face, full face visible: a "
            "path, an http(s) URL, or id:<file_id>.",
            rules=IMAGE_4096,
            upload_path="/s2s/v1.1/file/face-swap",
        ),
    ),
    params=_duration_options(_limits(FACE_SWAP_CLIP)[0]),
    action_params=False,  # the action has no `params` (003:17726)
    hooks={"job_params": "video_duration"},
    result="video",
    sandbox_result="video_copy",
    error_hints={
        **_VIDEO_HINTS,
        "error_no_face": "No face was found in the clip or the photo: both need one clear, "
        "frontal face.",
    },
    examples=(
        "yce video-face-swap clip.mp4 --face me.jpg",
        "yce video-face-swap clip.mp4 --face me.jpg --duration 8 -o swapped.mp4",
        "yce --json video-face-swap a.mp4 b.mp4 --face id:<file_id> -o swapped/",
    ),
)

VIDEO_STYLE = Feature(
    command="video-style",
    slug="video-trans",
    title="AI Video Style Transfer",
    summary="Restyle a video clip (anime, pop art, retro...): mp4 up to 30 s.",
    group="Video",
    seed_lines="003:17897-18638; sample 003:18418; limits 003:401",
    inputs=(
        InputSpec(
            name="source",
            field="src_ids",
            help="mp4 clip, up to 30 s, long side <= 4096: a path, an http(s) URL, or "
            "id:<file_id>.",
            positional=True,
            rules=STYLE_CLIP,
        ),
    ),
    params=(*_style_params("video"), *_duration_options(_limits(STYLE_CLIP)[0])),
    styles=True,
    hooks={"prepare": "video_style_required", "job_params": "video_duration"},
    result="video",
    sandbox_result="video_copy",
    error_hints=_VIDEO_HINTS,
    examples=(
        "yce video-style clip.mp4 --style <style_id>",
        "yce video-style clip.mp4 --style <style_id> --duration 15 -o styled.mp4",
        "yce --json video-style a.mp4 b.mp4 --style <style_id> -o styled/",
    ),
)

FEATURES: tuple[Feature, ...] = (IMAGE_TO_VIDEO, VIDEO_ENHANCE, VIDEO_FACE_SWAP, VIDEO_STYLE)
