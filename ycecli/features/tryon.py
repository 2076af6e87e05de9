"""Ring and earring virtual try-on on the v2 API (seeds 000, 001, 002).

Where the three seeds disagree (CATALOG 3.9) we follow 001 for paths, accept every
documented variant in replies, and make the ring task path a profile setting
(`ring_task_path`), since 002's curl sample uses another one.
"""

from __future__ import annotations

from ycecli.features.spec import (
    VTO_PHOTO_CODES,
    VTO_PRODUCT_CODES,
    Feature,
    InputSpec,
    MediaRules,
    Param,
)

FINGERS = {"thumb": 0, "index": 1, "middle": 2, "ring": 3, "little": 4}
OCCLUSION = {"auto": 0, "occluded": 1, "none": 2}


# 000:139-141, 001:126-128: "long side <= 4096 | < 10MB | jpg/jpeg/png", for the
# person's photo and the product image alike; each answers with its own codes.
_LIMITS_NOTE = "long side <= 4096 (000:141, 001:128)"
PHOTO_RULES = MediaRules(codes=VTO_PHOTO_CODES, note=_LIMITS_NOTE)
PRODUCT_RULES = MediaRules(codes=VTO_PRODUCT_CODES, note=_LIMITS_NOTE)


def _inputs(person: str, product: str, person_help: str, product_help: str):
    # Field names from 000/001 prose (ids) and 002's schema (URLs). The source is
    # singular, the product a list (CATALOG 3.5).
    return (
        InputSpec(
            name="source",
            field="src_file_id",
            url_field="src_file_url",
            as_list=False,
            argument=True,
            metavar=person.upper(),
            rules=PHOTO_RULES,
            help=f"{person_help}: a path, a public http(s) URL, or id:<file_id>.",
        ),
        InputSpec(
            name="product",
            field="ref_file_ids",
            url_field="ref_file_urls",
            positional=True,
            metavar=f"{product.upper()}...",
            rules=PRODUCT_RULES,
            help=f"{product_help}: a path, a public URL, or id:<file_id>; one task per product.",
        ),
        InputSpec(
            name="source_mask",
            field="srcmsk_file_id",
            url_field="srcmsk_file_url",
            as_list=False,
            required=False,
            option=f"--{person}-mask",
            rules=PHOTO_RULES,
            help=f"Occlusion mask for the {person} photo, to fine-tune segmentation.",
        ),
        InputSpec(
            name="product_mask",
            field="refmsk_file_ids",
            url_field="refmsk_file_urls",
            required=False,
            option="--product-mask",
            rules=PRODUCT_RULES,
            help=f"Mask for the {product} image (the engine removes its background itself).",
        ),
    )


def _common(prefix: str, where: str) -> tuple[Param, ...]:
    path = ("object_infos", 0, "parameter")
    return (
        Param(
            name=f"{prefix}_shadow_intensity",
            kind="float",
            minimum=0.0,
            maximum=1.0,
            default=0.15,
            option="--shadow",
            path=path,
            help="Shadow strength: 0 none, 1 maximum.",
        ),
        Param(
            name=f"{prefix}_ambient_light_intensity",
            kind="float",
            minimum=0.0,
            maximum=1.0,
            default=1.0,
            option="--ambient-light",
            path=path,
            help=f"How far the lighting follows the {where} photo: 0 ignore, 1 fully match.",
        ),
    )


_V2_HINTS = {
    "RUNTIME_ERROR": "The engine failed unexpectedly; try again later.",
    "OBJECT_DETECTION_FAIL": "No product was found in the product image: use a clear photo "
    "of the product alone.",
    "INPUT_ERROR": "An input file's format is wrong: use JPEG or PNG under 10 MB.",
    "INPUT_MAIN_IMAGE_EMPTY": "The hand or selfie image is missing.",
}

RING = Feature(
    command="ring-vto",
    slug="2d-vto/ring",
    title="AI Ring Virtual Try-On",
    summary="Put a ring on a hand photo (v2 API).",
    group="Try-on",
    generation="v2",
    body_style="vto",
    send_nulls=True,
    upload_path="/s2s/v2.0/file/{slug}",
    task_path="/s2s/v2.0/task/{slug}",  # 001:63; 002's curl says /s2s/v2.0/task/ring
    task_path_setting="ring_task_path",
    seed_lines="001 (guide, parameters 001:88-119), 002 (request schema and sample)",
    inputs=_inputs(
        "hand",
        "ring",
        "Back of the hand, all five fingers visible",
        "Ring product photo, three-quarter front view (about 45 degrees)",
    ),
    params=(
        Param(
            name="ring_wearing_finger",
            kind="int",
            choices=(0, 1, 2, 3, 4),
            aliases=FINGERS,
            option="--finger",
            path=("object_infos", 0, "parameter"),
            help="Finger to wear the ring on (default: the engine's choice).",
        ),
        Param(
            name="ring_wearing_location",
            kind="float",
            minimum=0.0,
            maximum=1.0,
            option="--location",
            path=("object_infos", 0, "parameter"),
            help="Position along the finger: 0 near the knuckle (MCP), 1 near the middle "
            "joint (PIP).",
        ),
        *_common("ring", "hand"),
        Param(
            name="ring_anchor_point",
            kind="points",
            count=2,
            option="--anchor",
            path=("object_infos", 0, "parameter"),
            metavar="X,Y",
            help="Inner edge of the ring where it touches the finger, in the ring image's "
            "pixels: give twice, left then right (default: auto-detect).",
        ),
        # Only in 002's sample (true); its type is presumably boolean (CATALOG 3.6).
        Param(
            name="ring_need_remove_background",
            kind="bool",
            default=True,
            option="--remove-background/--keep-background",
            path=("object_infos", 0, "parameter"),
            help="Let the engine remove the ring image's background.",
        ),
    ),
    error_hints={
        **_V2_HINTS,
        "PHOTO_DETECTION_FAIL": "No hand was found: the hand must show its back with all five "
        "fingers clearly visible and nothing covering them.",
        "PHOTO_CHECK_INVALID": "The hand's pose or size is not usable: show the back of the "
        "hand, fingers spread, filling much of the frame.",
    },
    result="image",
    sandbox_result="compose",
    examples=(
        "yce ring-vto hand.jpg ring.png --finger ring",
        "yce ring-vto hand.jpg rings/*.png --finger 3 --location 0.4 -o tryon/",
        "yce ring-vto https://example.com/hand.jpg id:<file_id> --anchor 120,300 --anchor 260,310",
    ),
)

EARRING = Feature(
    command="earring-vto",
    slug="2d-vto/earring",
    title="AI Earring Virtual Try-On",
    summary="Put an earring on a selfie (v2 API).",
    group="Try-on",
    generation="v2",
    body_style="vto",
    send_nulls=True,
    upload_path="/s2s/v2.0/file/{slug}",
    task_path="/s2s/v2.0/task/{slug}",  # 000:66
    # 000 never mentions source_info/object_infos; placing the earring parameters in
    # object_infos[].parameter follows 002's ring sample (CATALOG 3.5).
    seed_lines="000 (guide, parameters 000:95-133), 002 by analogy",
    inputs=_inputs(
        "selfie",
        "earring",
        "Selfie with the ear visible (side-facing works best)",
        "Photo of a single earring, clear front view",
    ),
    params=(
        Param(
            name="earring_wearing_location",
            kind="point",
            option="--location",
            path=("object_infos", 0, "parameter"),
            metavar="X,Y",
            help="Where on the selfie to place the earring, in pixels (default: the "
            "engine's choice).",
        ),
        Param(
            name="earring_scale",
            kind="float",
            minimum=0.0,
            exclusive_minimum=True,
            option="--scale",
            path=("object_infos", 0, "parameter"),
            help="Earring size in centimetres (default: the engine's choice).",
        ),
        Param(
            name="earring_is_right_ear",
            kind="bool",
            default=True,
            option="--right-ear/--left-ear",
            path=("object_infos", 0, "parameter"),
            help="Which ear wears it.",
        ),
        Param(
            name="earring_occluded_type",
            kind="int",
            choices=(0, 1, 2),
            aliases=OCCLUSION,
            default=0,
            option="--occlusion",
            path=("object_infos", 0, "parameter"),
            help="Whether hair or the ear hides part of it.",
        ),
        *_common("earring", "selfie"),
        Param(
            name="earring_anchor_point",
            kind="points",
            count=1,
            option="--anchor",
            path=("object_infos", 0, "parameter"),
            metavar="X,Y",
            help="Wearing point in the earring image, in pixels (default: auto-detect).",
        ),
    ),
    error_hints={
        **_V2_HINTS,
        "PHOTO_DETECTION_FAIL": "No ear was found: use a selfie with the ear clearly visible; "
        "side-facing photos work best.",
        "PHOTO_CHECK_INVALID": "The selfie's pose or size is not usable: face the camera or "
        "turn to the side, with the ear large in the frame.",
    },
    result="image",
    sandbox_result="compose",
    examples=(
        "yce earring-vto selfie.jpg earring.png",
        "yce earring-vto selfie.jpg earring.png --left-ear --occlusion none --scale 2.5",
    ),
)

FEATURES = (RING, EARRING)
