"""Hair features (003): hair colour, and the style-based hair generators."""

from __future__ import annotations

from ycecli.features.spec import Feature, MediaRules, Param, photo_input, style_params

# The 20 values of 003:2510's `preset` enum, in the seed's order: the first ten are
# "Available for full mode", the last ten "Available for ombre mode".
FULL_PRESETS = (
    "Jet Black",
    "Chocolate Brown",
    "Honey Blonde",
    "Platinum Blonde",
    "Ash Gray",
    "Rose Gold",
    "Burgundy",
    "Copper Red",
    "Lavender",
    "Teal Blue",
)
OMBRE_PRESETS = (
    "Dark Brown/Caramel Blonde",
    "Jet Black/Silver Gray",
    "Ash Brown/Lavender",
    "Rose Gold/Peach Blonde",
    "Burgundy/Magenta Pink",
    "Deep Blue/Teal Green",
    "Plum Purple/Pastel Lilac",
    "Copper Red/Golden Blonde",
    "Dark Gray/Ice Blonde",
    "Midnight Blue/Denim Blue",
)
PRESETS = FULL_PRESETS + OMBRE_PRESETS
# 003:2523. The CLI also takes the colour without its "#" (a bare # starts a shell
# comment); the hook adds it back, so the body always matches the documented form.
COLOR_PATTERN = r"#?[0-9A-Fa-f]{6}"

# 003:2349 gives "long side < 1920" (strictly less), while the error text of
# error_exceed_max_image_size (003:2360) expects "width < 1920px, height < 1080px"
# and error_below_min_image_size (003:2359) "width >= 100px, height >= 100px". We take
# the stricter reading of all three: a photo the engine might refuse is refused before
# it costs a task, and the sandbox's engine refuses it with those codes.
HAIR_COLOR_RULES = MediaRules(
    max_long_side=1919,
    min_short_side=100,
    width_under=1920,
    height_under=1080,
    note="long side < 1920 (003:2349); width < 1920, height < 1080, both >= 100 (003:2355)",
)

# 003:2735, 3494: the hairstyle and extension tables list jpg/jpeg only, although
# the upload enum also has png; only what the table says is accepted, since a PNG the
# engine refuses would waste a task.
HAIR_1024_JPEG = MediaRules(
    content_types=("image/jpeg",),
    max_long_side=1024,
    note="long side <= 1024, face width >= 128, one full, frontal face, shoulders visible",
)
HAIR_1024 = MediaRules(
    max_long_side=1024,
    note="long side <= 1024, face width >= 128, one full, frontal face, shoulders visible",
)

_HAIR_HINTS = {
    # 003:2741 and its copies in the other hair generators.
    "error_no_shoulder": "The shoulders must be visible: use a head-and-shoulders photo.",
    "error_large_face_angle": "The face is turned too far: face the camera.",
    "error_insufficient_landmarks": "The face or body is not clear enough: use a sharp, "
    "well-lit photo of one person showing the whole face and the shoulders.",
    "error_hair_too_short": "The hair in the photo is too short for this style.",
    "error_face_pose": "The head pose is not supported: look straight at the camera "
    "(pitch within 10, yaw within 45, roll within 15 degrees).",
    "error_bald_image": "No hair was found in the photo.",
}


HAIR_COLOR = Feature(
    command="hair-color",
    slug="hair-color",
    title="AI Hair Color",
    summary="Dye the hair: a preset, or your own colour (full) or two colours (ombre).",
    group="Portrait and hair",
    seed_lines="003:2325-2717; parameters 003:2510-2525; limits 003:2349, 003:2355",
    inputs=(photo_input("Photo showing the hair to dye", HAIR_COLOR_RULES),),
    params=(
        Param(
            name="preset",
            kind="str",
            choices=PRESETS,
            option="--preset",
            help="A predefined colour: the first ten are one colour, the others "
            "two-colour ombres. Not combinable with --color (the API would ignore "
            "the colours).",
        ),
        # What the user types; the hair_color hook turns these into `pattern` and
        # `palettes` (they never go in the body as they are).
        Param(
            name="color",
            kind="str_list",
            send=False,
            pattern=COLOR_PATTERN,
            min_items=1,
            max_items=2,
            metavar="#RRGGBB",
            help="Hair colour as hex #RRGGBB (quote it: # starts a shell comment; the # "
            "may be left out). Once for one colour, twice for an ombre (top colour "
            "first).",
        ),
        Param(
            name="pattern_name",
            kind="str",
            send=False,
            choices=("full", "ombre"),
            option="--pattern",
            help="Colouring pattern (default: full with one --color, ombre with two).",
        ),
        Param(
            name="blend_strength",
            kind="int",
            send=False,
            minimum=0,
            maximum=100,
            help="Ombre only, required there: how softly the two colours blend.",
        ),
        Param(
            name="line_offset",
            kind="float",
            send=False,
            minimum=-0.99,
            maximum=0.99,
            help="Ombre only, required there: where the colours meet. 0.99: the top "
            "colour covers 99% of the bottom half; -0.99: the bottom colour covers 99% "
            "of the top half.",
        ),
        Param(
            name="coloring_section",
            kind="str",
            send=False,
            choices=("top",),
            help="Ombre only: the section to colour; 'top' is the only documented value "
            "and is filled in for ombre.",
        ),
        Param(
            name="color_intensity",
            kind="int",
            send=False,
            minimum=0,
            maximum=100,
            help="Colour intensity of every --color (default: the engine's).",
        ),
        Param(
            name="shine_intensity",
            kind="int",
            send=False,
            minimum=0,
            maximum=100,
            help="Shine intensity of every --color (default: the engine's).",
        ),
        # What goes in the body (003:2510-2525), built by the hair_color hook.
        Param(
            name="pattern",
            kind="object",
            cli=False,
            help="{name, blend_strength, line_offset, coloring_section}",
        ),
        Param(
            name="palettes",
            kind="object_list",
            cli=False,
            min_items=1,
            max_items=2,
            help="[{color, color_intensity, shine_intensity}]: 1 for full, 2 for ombre",
        ),
    ),
    hooks={"prepare": "hair_color", "check_job": "hair_color_size"},
    sandbox_check="hair_color",
    sandbox_result="hair_tint",
    error_hints={
        "error_below_min_image_size": "The photo is too small: width and height must be at "
        "least 100 px.",
        "error_exceed_max_image_size": "The photo is too large: width must be under 1920 px "
        "and height under 1080 px.",
    },
    examples=(
        "yce hair-color selfie.jpg --preset 'Honey Blonde'",
        "yce hair-color selfie.jpg --color '#7B3F00' --color-intensity 80",
        "yce hair-color a.jpg b.jpg --color 2B1B17 --color D8B68A --blend-strength 60 "
        "--line-offset 0.2 -o dyed/",
    ),
)


def _style_feature(
    command: str,
    slug: str,
    title: str,
    summary: str,
    seed_lines: str,
    rules: MediaRules,
    examples: tuple[str, ...],
    hints: dict[str, str],
) -> Feature:
    return Feature(
        command=command,
        slug=slug,
        title=title,
        summary=summary,
        group="Portrait and hair",
        seed_lines=seed_lines,
        inputs=(photo_input("Portrait (one frontal face, shoulders visible)", rules),),
        params=style_params(
            f"{title.removeprefix('AI ')} style id, from `yce styles list {command}`.",
            metavar="STYLE_ID",
        ),
        styles=True,
        # style_group_id is filled from --style by the core; see style_required.
        hooks={"prepare": "style_required"},
        sandbox_result="hair_band",
        error_hints=hints,
        examples=examples,
    )


HAIR_STYLE = _style_feature(
    "hair-style",
    "hair-style",
    "AI Hairstyle Generator",
    "Try a new hairstyle from the style list.",
    "003:2718-3477; parameters 003:3292-3293; limits 003:2735, errors 003:2741",
    HAIR_1024_JPEG,
    (
        "yce styles list hair-style",
        "yce hair-style portrait.jpg --style <style_id>",
        "yce hair-style a.jpg b.jpg --style <style_id> --style-group <group_id> -o styled/",
    ),
    {k: v for k, v in _HAIR_HINTS.items() if k != "error_bald_image"},
)

HAIR_EXT = _style_feature(
    "hair-ext",
    "hair-ext",
    "AI Hair Extension",
    "Lengthen the hair in a style from the style list.",
    "003:3478-4237; parameters 003:4048-4049; limits 003:3494, errors 003:3500",
    HAIR_1024_JPEG,
    (
        "yce styles list hair-ext",
        "yce hair-ext portrait.jpg --style <style_id>",
        "yce --json hair-ext id:<dst_id> --style <style_id>",
    ),
    _HAIR_HINTS,
)

HAIR_BANG = _style_feature(
    "hair-bang",
    "hair-bang",
    "AI Hair Bang Generator",
    "Add bangs in a style from the style list.",
    "003:4238-5001; parameters 003:4812-4813; limits 003:4258, errors 003:4264",
    HAIR_1024,
    (
        "yce styles list hair-bang",
        "yce hair-bang portrait.png --style <style_id>",
        "yce hair-bang *.jpg --style <style_id> -o bangs/",
    ),
    _HAIR_HINTS,
)

HAIR_VOLUME = _style_feature(
    "hair-volume",
    "hair-vol",  # the API's slug; `yce` also finds the feature by it
    "AI Hair Volume Generator",
    "Give the hair more volume, in a style from the style list.",
    "003:5002-5761; parameters 003:5572-5573; limits 003:5018, errors 003:5024",
    HAIR_1024,
    (
        "yce styles list hair-volume",
        "yce hair-volume portrait.jpg --style <style_id>",
        "yce hair-volume a.jpg b.jpg --style <style_id> -o volume/",
    ),
    _HAIR_HINTS,
)

HAIR_CURL = _style_feature(
    "hair-curl",
    "hair-curl",
    "AI Wavy Hair",
    "Make the hair wavy or curly, in a style from the style list.",
    "003:5762-6406; parameters 003:6217-6218; limits 003:5777, errors 003:5783",
    HAIR_1024,
    (
        "yce styles list hair-curl",
        "yce hair-curl portrait.jpg --style <style_id>",
        "yce hair-curl *.png --style <style_id> -o waves/",
    ),
    # 003:5783 lists no error_bald_image for this feature.
    {k: v for k, v in _HAIR_HINTS.items() if k != "error_bald_image"},
)

FEATURES: tuple[Feature, ...] = (
    HAIR_COLOR,
    HAIR_STYLE,
    HAIR_EXT,
    HAIR_BANG,
    HAIR_VOLUME,
    HAIR_CURL,
)
