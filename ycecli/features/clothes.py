"""Clothes features (003): AI Clothes (a predefined outfit or your own garment image)
and AI Fabric."""

from __future__ import annotations

from ycecli.features.spec import Feature, InputSpec, MediaRules, Param, style_params

# 003:6484 and 003:7150: jpg/jpeg only (the upload enum also has png; only what the
# table says is accepted, since a PNG the engine refuses would waste a task).
BODY_JPEG = MediaRules(
    content_types=("image/jpeg",),
    max_long_side=4096,
    note="long side <= 4096; one person, upright and facing forward, abdomen, shoulders "
    "and face visible",
)

# 003:6438: "minimum 512x384" for both images of a custom-garment try-on. Whether that
# is width x height or long x short side is not said; we read it as long side >= 512
# and short side >= 384 in either orientation, since the subject it asks for (a
# standing, full-body person) is mostly shot in portrait. The seed states it for
# garment mode only: the garment input always has it, the person's photo only when a
# garment is given (the clothes_mode hook before upload, the sandbox's `cloth_mode`
# rules on the engine's side). 003:6490 names no code for it; the engine answers
# error_below_min_image_size, the code of every other feature's minimum size.
GARMENT_MIN_LONG_SIDE = 512
GARMENT_MIN_SHORT_SIDE = 384
GARMENT_MODE_RULES = MediaRules(
    content_types=BODY_JPEG.content_types,
    max_long_side=BODY_JPEG.max_long_side,
    min_long_side=GARMENT_MIN_LONG_SIDE,
    min_short_side=GARMENT_MIN_SHORT_SIDE,
    note=BODY_JPEG.note + "; at least 512x384 with a garment (003:6438)",
)

GARMENT_CATEGORIES = ("full_body", "lower_body", "upper_body")

CLOTHES = Feature(
    command="clothes",
    slug="cloth",
    title="AI Clothes",
    summary="Dress a person in a predefined outfit (--style) or in a garment photo (--garment).",
    group="Clothes",
    seed_lines="003:6407-7120; parameters 003:6920-6933; rules 003:6426-6482; "
    "limits 003:6484, errors 003:6490",
    inputs=(
        InputSpec(
            name="source",
            field="src_ids",
            help="Full-body photo of the person to dress: a path, an http(s) URL, or id:<file_id>.",
            positional=True,
            rules=BODY_JPEG,
        ),
        InputSpec(
            name="garment",
            field="ref_ids",
            required=False,  # it selects custom-garment mode (003:6426-6432)
            metavar="FILE",
            help="Garment image for custom mode: a front-facing product shot of one "
            "garment, or one person wearing it (at least 512x384). Needs "
            "--garment-category; not combinable with --style.",
            rules=GARMENT_MODE_RULES,
        ),
    ),
    params=(
        # Predefined-outfit mode: "required if reference image did not provide".
        *style_params(
            "Predefined outfit style id, from `yce styles list clothes`. Not combinable "
            "with --garment.",
            group_help="Style group id of --style (default: looked up in the style lists).",
            required=False,
            metavar="STYLE_ID",
        ),
        # Custom-garment mode: "required if reference image provided".
        Param(
            name="garment_category",
            kind="str",
            choices=GARMENT_CATEGORIES,
            help="What --garment is: upper_body (a top), lower_body (trousers, a skirt) or "
            "full_body (a dress, a whole outfit). Required with --garment. Where it "
            "disagrees with the garment image, the image wins (003:6467).",
        ),
    ),
    hooks={"check_job": "clothes_mode"},
    styles=True,
    sandbox_check="cloth",
    sandbox_rules="cloth_mode",
    sandbox_result="clothes_paste",
    error_hints={
        "error_invalid_ref": "The garment image looks empty or cut off: use a front-facing "
        "photo of the whole garment.",
        "error_apply_region_mismatch": "The photo and the garment do not match (e.g. an "
        "upper-body photo with trousers): use a photo showing the body part the garment "
        "covers, or another --garment-category.",
        "invalid_parameter": "The garment category or the style id was refused; see "
        "`yce styles list clothes`.",
    },
    examples=(
        "yce styles list clothes",
        "yce clothes me.jpg --style <style_id>",
        "yce clothes me.jpg --garment dress.jpg --garment-category full_body -o try-on.jpg",
    ),
)

FABRIC = Feature(
    command="fabric",
    slug="fabric",
    title="AI Fabric",
    summary="Change the fabric of the clothes to one from the style list.",
    group="Clothes",
    seed_lines="003:7121-7775; parameters 003:7586-7587; limits 003:7150, errors 003:7156",
    inputs=(
        InputSpec(
            name="source",
            field="src_ids",
            help="Full-body photo of the person: a path, an http(s) URL, or id:<file_id>.",
            positional=True,
            rules=BODY_JPEG,
        ),
    ),
    params=(*style_params("Fabric style id, from `yce styles list fabric`.", metavar="STYLE_ID"),),
    styles=True,
    hooks={"prepare": "style_required"},
    sandbox_result="fabric_texture",
    error_hints={
        "error_apply_region_not_detected": "The clothing area is too small or was not found: "
        "use a full-body photo, the person filling most of the frame.",
    },
    examples=(
        "yce styles list fabric",
        "yce fabric me.jpg --style <style_id>",
        "yce fabric a.jpg b.jpg --style <style_id> -o fabrics/",
    ),
)

FEATURES: tuple[Feature, ...] = (CLOTHES, FABRIC)
