"""Image editing features (003: AI Photo Editing)."""

from __future__ import annotations

from ycecli.features.spec import (
    MASK_4096,
    PATH_URL_OR_ID,
    Feature,
    InputSpec,
    MediaRules,
    Param,
    mask_input,
    photo_input,
    style_params,
)

ENHANCE = Feature(
    command="enhance",
    slug="enhance",
    title="AI Photo Enhance",
    summary="Upscale and sharpen a photo (x1, x2 or x4).",
    group="Image editing",
    seed_lines="003:8236-8705; limits 003:380",
    inputs=(
        InputSpec(
            name="source",
            field="src_ids",
            help="Photo to enhance: a path, an http(s) URL, or id:<file_id>.",
            positional=True,
        ),
    ),
    params=(
        Param(
            name="scale",
            kind="int",
            # 003:8491 marks scale required with no default; 2 is the CLI's default
            # so the one-off user gets the common case, and it is always sent.
            default=2,
            required=True,
            choices=(1, 2, 4),
            help="Scaling ratio.",
        ),
    ),
    result="image",
    sandbox_result="scale",
    examples=(
        "yce enhance photo.jpg --scale 2",
        "yce enhance a.jpg b.png --scale 4 -o upscaled/",
        "yce --json enhance id:<dst_id> --scale 1",
    ),
)


# -- the other image-editing features (003 part 2, 2.2-2.10; obj-removal from part 1) ----

# Every feature here takes one photo with the common limits row (003:380-390): jpg/jpeg/
# png, < 10 MB, long side <= 4096. Only lighting adds a minimum (short side >= 256).
_MASK_HINTS = {
    "error_download_mask": "The engine could not fetch the mask; try again.",
    "error_decode_mask": "The engine could not decode the mask: use a greyscale PNG of "
    "exactly the photo's size.",
}


BG_REMOVE = Feature(
    command="bg-remove",
    slug="sod",
    title="AI Photo Background Removal",
    summary="Cut the subject out of a photo (transparent background).",
    group="Image editing",
    seed_lines="003:8705-9165; limits 003:388",
    inputs=(photo_input("Photo to cut out"),),
    # 003:8958: the action is just {"id": 0}, no params key.
    action_params=False,
    result="image",
    sandbox_result="sod_cutout",
    examples=(
        "yce bg-remove product.jpg",
        "yce bg-remove shots/*.jpg -o cutouts/",
        "yce --json bg-remove id:<dst_id>",
    ),
)

COLORIZE = Feature(
    command="colorize",
    slug="colorize",
    title="AI Photo Colorize",
    summary="Colorize a black-and-white photo (4 versions, warm to cool).",
    group="Image editing",
    seed_lines="003:9166-9619; limits 003:381",
    inputs=(photo_input("Black-and-white photo"),),
    action_params=False,  # 003:9404: no params key
    result="image",  # four data[] entries per task (003:9170, sample 003:9506ff)
    sandbox_result="colorize_tints",
    examples=(
        "yce colorize grandma.jpg",
        "yce colorize old/*.png -o colorized/",
        "yce --json colorize scan.jpg -o scan-colour.jpg",
    ),
)

COLOR_CORRECT = Feature(
    command="color-correct",
    slug="colorize/color-correct",
    title="AI Photo Color Correction",
    summary="Colour-grade a photo (4 versions, warm to cool).",
    group="Image editing",
    seed_lines="003:11076-11540; limits 003:382",
    inputs=(photo_input("Photo to colour-correct"),),
    action_params=False,  # 003:11325: no params key
    result="image",  # four data[] entries per task (003:11080)
    sandbox_result="autocontrast_variants",
    examples=(
        "yce color-correct dull.jpg",
        "yce color-correct a.jpg b.jpg -o graded/",
        "yce --json color-correct id:<dst_id>",
    ),
)

LIGHTING = Feature(
    command="lighting",
    slug="lighting",
    title="AI Photo Lighting",
    summary="Fix the lighting of a dark or backlit photo.",
    group="Image editing",
    seed_lines="003:10617-11075; limits 003:383",
    inputs=(
        InputSpec(
            name="source",
            field="src_ids",
            help=f"Photo to relight: {PATH_URL_OR_ID}.",
            positional=True,
            # 003:383: "4096x4096 (long side <= 4096, short side >= 256)". The table names
            # no code; the engine's is error_below_min_image_size, as for every minimum.
            rules=MediaRules(min_short_side=256, note="long side <= 4096, short side >= 256"),
        ),
    ),
    # 003:10866: "params": {} is required even though it defines no field.
    action_params=True,
    result="image",
    sandbox_result="brighten",
    examples=(
        "yce lighting backlit.jpg",
        "yce lighting night/*.jpg -o relit/",
        "yce --json lighting id:<dst_id> -o relit.jpg",
    ),
)

GENERATE = Feature(
    command="generate",
    slug="text-to-image",
    title="AI Image Generator",
    summary="Generate an image from a text prompt in a chosen style.",
    group="Image editing",
    seed_lines="003:9620-10142; limits 003:387",
    inputs=(),  # no upload endpoint and no file_sets (003:9918)
    file_sets=False,
    styles=True,
    params=(
        Param(name="prompt", kind="str", required=True, help="What to generate."),
        Param(
            name="negative_prompt",
            kind="str",
            option="--negative",
            help="What the image must not show.",
        ),
        # "Only accept 1 style." (003:9948)
        *style_params(
            "Style id, from `yce styles list generate`.",
            group_help="Style group id (default: the group of --style, looked up in the "
            "style lists).",
        ),
        # 003 gives no range or default for steps, cfg_scale or the ratios; only what
        # cannot be meant (zero or negative steps and ratios) is refused here.
        Param(
            name="steps",
            kind="int",
            minimum=1,
            help="Generation steps: more is finer and slower (default: the engine's).",
        ),
        Param(
            name="cfg_scale",
            kind="float",
            minimum=0.0,
            option="--cfg",
            help="How closely the image follows the prompt (default: the engine's).",
        ),
        Param(
            name="seed",
            kind="int_list",
            min_items=1,
            max_items=1,  # an array with one integer: "Only accept 1 seed."
            pattern=r"\d+",
            help="Random seed; the same seed recreates the same image.",
        ),
        Param(
            name="ratio",
            kind="str",
            send=False,
            metavar="W:H",
            help="Aspect ratio, e.g. 3:4 or 16:9; sent as width_ratio and height_ratio "
            "(default: the engine's).",
        ),
        # Set by the "generate_prepare" hook from --ratio (library callers may pass them).
        Param(name="width_ratio", kind="int", minimum=1, cli=False, help="Width of the ratio."),
        Param(name="height_ratio", kind="int", minimum=1, cli=False, help="Height of the ratio."),
    ),
    hooks={"prepare": "generate_prepare"},
    result="image",
    sandbox_result="generate_card",
    examples=(
        'yce generate --prompt "A little cat" --style <style_id>',
        'yce generate --prompt "A lighthouse at dusk" --negative "people" --style <style_id> '
        "--ratio 16:9 -o lighthouse.jpg",
        'yce --json generate --prompt "A little cat" --style <style_id> --seed 3843718472198472',
    ),
)

POSITIONS = (
    "center",
    "top",
    "bottom",
    "left",
    "right",
    "top-left",
    "top-right",
    "bottom-left",
    "bottom-right",
)


def _raw(name: str, option: str, low: int, help_text: str) -> Param:
    # 003:10413-10424 marks all ten "required" with ranges [0|1 - 4096]. They are always
    # sent: the "extend_params" hook computes every one from the photo's size and the
    # friendly options (or checks the ones given), and the sandbox check "out_paint"
    # requires all ten as the API does. They are declared optional only so that
    # `--help` does not call each raw option required.
    return Param(name=name, kind="int", minimum=low, maximum=4096, option=option, help=help_text)


EXTEND = Feature(
    command="extend",
    slug="out-paint",
    title="AI Image Extender",
    summary="Extend a photo onto a larger canvas (outpainting).",
    group="Image editing",
    seed_lines="003:10143-10616; limits 003:384",
    inputs=(photo_input("Photo to extend"),),
    params=(
        Param(
            name="canvas",
            kind="str",
            send=False,
            metavar="WxH",
            help="Output size in pixels, e.g. 1024x768 (output: short side <= 1024, long "
            "side <= 2048, larger than the photo).",
        ),
        Param(
            name="ratio",
            kind="str",
            send=False,
            metavar="W:H",
            help="Output aspect ratio, e.g. 16:9: the smallest canvas of that ratio that "
            "holds the photo.",
        ),
        Param(
            name="position",
            kind="str",
            send=False,
            choices=POSITIONS,
            help="Where the photo sits on the canvas (default: center).",
        ),
        _raw(
            "output_width",
            "--output-width",
            1,
            "Raw value: output width in pixels (output: short side <= 1024, long side <= 2048).",
        ),
        _raw("output_height", "--output-height", 1, "Raw value: output height in pixels."),
        _raw("input_x", "--input-x", 0, "Raw value: left of the photo in the output."),
        _raw("input_y", "--input-y", 0, "Raw value: top of the photo in the output."),
        _raw(
            "input_width",
            "--input-width",
            1,
            "Raw value: width of the photo in the output (= the crop's width).",
        ),
        _raw(
            "input_height",
            "--input-height",
            1,
            "Raw value: height of the photo in the output (= the crop's height).",
        ),
        _raw("crop_input_x", "--crop-x", 0, "Use only part of the photo: left of the crop."),
        _raw("crop_input_y", "--crop-y", 0, "Use only part of the photo: top of the crop."),
        _raw(
            "crop_input_width",
            "--crop-width",
            1,
            "Use only part of the photo: crop width (default: to the right edge).",
        ),
        _raw(
            "crop_input_height",
            "--crop-height",
            1,
            "Use only part of the photo: crop height (default: to the bottom edge).",
        ),
    ),
    hooks={"prepare": "extend_prepare", "job_params": "extend_params"},
    sandbox_check="out_paint",
    result="image",
    sandbox_result="extend_canvas",
    examples=(
        "yce extend photo.jpg --ratio 16:9",
        "yce extend photo.jpg --canvas 1024x1024 --position bottom",
        "yce extend id:<dst_id> --output-width 960 --output-height 1280 --input-x 240 "
        "--input-y 320 --input-width 480 --input-height 640 --crop-x 0 --crop-y 0 "
        "--crop-width 480 --crop-height 640",
    ),
)

REPLACE = Feature(
    command="replace",
    slug="obj-replace",
    title="AI Replace",
    summary="Replace the masked part of a photo with what a prompt describes.",
    group="Image editing",
    seed_lines="003:11541-12002; limits 003:385",
    inputs=(
        photo_input("Photo to edit"),
        # msk_ids, not mask_ids (003:11808; obj-removal says mask_ids, 003:8047).
        mask_input("msk_ids", "the area to replace", MASK_4096),
    ),
    params=(
        Param(
            name="prompt",
            kind="str",
            required=True,
            help="What to generate in the masked area.",
        ),
    ),
    hooks={"prepare": "replace_prepare", "check_job": "check_mask"},
    error_hints=_MASK_HINTS,
    result="image",
    sandbox_result="fill_mask",
    examples=(
        'yce replace room.jpg --mask sofa-mask.png --prompt "a green velvet sofa"',
        'yce replace a.jpg b.jpg --mask mask.png --prompt "a cute cat" -o replaced/',
        'yce --json replace id:<dst_id> --mask id:<mask_id> --prompt "a vase of tulips"',
    ),
)

_COMPOSITE_NOTE = (
    " 003 describes the result as a foreground mask; yce can apply it locally (not an API feature)."
)

BG_CHANGE = Feature(
    command="bg-change",
    slug="sod/change-background",
    title="AI Photo Background Change",
    summary="Get a photo's foreground mask, optionally put on a new background.",
    group="Image editing",
    seed_lines="003:12003-12461; limits 003:390",
    inputs=(photo_input("Photo whose background to change"),),
    params=(
        Param(
            name="background",
            kind="str",
            send=False,
            metavar="COLOR|IMAGE",
            help="Also write <output>_composite: the subject over this colour (#RRGGBB or "
            "a name) or image, made locally from the returned mask." + _COMPOSITE_NOTE,
        ),
    ),
    action_params=False,  # 003:12254: no params key
    hooks={
        "prepare": "background_prepare",
        "check_job": "check_local_composite",
        "after": "composite_background",
    },
    result="image",
    sandbox_result="foreground_mask",
    examples=(
        "yce bg-change portrait.jpg",
        "yce bg-change portrait.jpg --background '#1e90ff'",
        "yce bg-change product.png --background beach.jpg -o product-mask.png",
    ),
)

BG_BLUR = Feature(
    command="bg-blur",
    slug="sod/blur-background",
    title="AI Photo Background Blur",
    summary="Get a photo's foreground mask, optionally with the background blurred.",
    group="Image editing",
    seed_lines="003:12462-12920; limits 003:389",
    inputs=(photo_input("Photo whose background to blur"),),
    params=(
        Param(
            name="blur",
            kind="float",
            send=False,
            minimum=0.0,
            exclusive_minimum=True,
            maximum=200.0,
            metavar="RADIUS",
            help="Also write <output>_blurred: the photo with its background blurred by a "
            "Gaussian of this radius in pixels, made locally from the returned mask."
            + _COMPOSITE_NOTE,
        ),
    ),
    action_params=False,  # 003:12713: no params key
    hooks={"check_job": "check_local_composite", "after": "composite_blur"},
    result="image",
    sandbox_result="foreground_mask",
    examples=(
        "yce bg-blur portrait.jpg",
        "yce bg-blur portrait.jpg --blur 12",
        "yce bg-blur shots/*.jpg --blur 8 -o blurred/",
    ),
)

OBJ_REMOVE = Feature(
    command="obj-remove",
    slug="obj-removal",
    title="AI Object Removal",
    summary="Remove the masked objects from a photo.",
    group="Image editing",
    seed_lines="003:7776-8235; limits 003:386",
    inputs=(
        photo_input("Photo to clean up"),
        mask_input("mask_ids", "what to remove", MASK_4096),  # 003:8047
    ),
    action_params=False,  # 003:8100: the action is just {"id": 0}
    hooks={"check_job": "check_mask"},
    error_hints=_MASK_HINTS,
    result="image",
    sandbox_result="fill_mask",
    examples=(
        "yce obj-remove beach.jpg --mask people-mask.png",
        "yce obj-remove a.jpg b.jpg --mask mask.png -o cleaned/",
        "yce --json obj-remove id:<dst_id> --mask id:<mask_id>",
    ),
)

FEATURES = (
    ENHANCE,
    BG_REMOVE,
    COLORIZE,
    COLOR_CORRECT,
    LIGHTING,
    GENERATE,
    EXTEND,
    REPLACE,
    BG_CHANGE,
    BG_BLUR,
    OBJ_REMOVE,
)
