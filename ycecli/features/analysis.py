"""Analysis features (003): skin analysis (a result ZIP of scores and masks) and the
face analyzer (attributes returned inline as JSON)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from ycecli.errors import InvalidInput
from ycecli.features.spec import Feature, InputSpec, MediaRules, Param

# -- skin analysis: its concerns, presets and result names ---------------------------

# The order of the `dst_actions` enum in the doc (003:1646).
SD_CONCERNS: tuple[str, ...] = (
    "wrinkle",
    "pore",
    "texture",
    "acne",
    "oiliness",
    "radiance",
    "eye_bag",
    "age_spot",
    "dark_circle_v2",
    "droopy_upper_eyelid",
    "droopy_lower_eyelid",
    "firmness",
    "moisture",
    "redness",
)
HD_CONCERNS: tuple[str, ...] = (
    "hd_wrinkle",
    "hd_pore",
    "hd_texture",
    "hd_acne",
    "hd_oiliness",
    "hd_radiance",
    "hd_eye_bag",
    "hd_age_spot",
    "hd_dark_circle",
    "hd_droopy_upper_eyelid",
    "hd_droopy_lower_eyelid",
    "hd_firmness",
    "hd_moisture",
    "hd_redness",
)
ALLOWED_COUNTS = (4, 7, 14)

# 4 is the doc's own run sample (wrinkle, pore, texture, acne: the classic skin-quality
# set); 7 adds the next three of the enum (oiliness, radiance, eye_bag), the concerns
# people ask about next. Both are prefixes of the enum order, so they are easy to
# remember and the SD and HD presets match one for one.
PRESETS: dict[str, tuple[str, ...]] = {
    f"{mode}-{count}": names[:count]
    for mode, names in (("sd", SD_CONCERNS), ("hd", HD_CONCERNS))
    for count in ALLOWED_COUNTS
}

# HD entries split by face area in score_info.json (003:948); all other entries are flat.
HD_AREAS: dict[str, tuple[str, ...]] = {
    "hd_texture": ("whole",),
    "hd_acne": ("whole",),
    "hd_pore": ("forehead", "nose", "cheek", "whole"),
    "hd_wrinkle": (
        "forehead",
        "glabellar",
        "crowfeet",
        "periocular",
        "nasolabial",
        "marionette",
        "whole",
    ),
}

RESULT_FOLDER = "skinanalysisResult"
SCORE_FILE = "score_info.json"


_SD_SET = frozenset(SD_CONCERNS)
_HD_SET = frozenset(HD_CONCERNS)


def mask_file_name(concern: str, area: str | None = None) -> str:
    """The documented mask name of a concern (003:849): the pore and wrinkle areas get a
    suffix, with "whole" spelt "all"; the one-area HD texture and acne do not."""
    if area is None or len(HD_AREAS.get(concern, ())) <= 1:
        return f"{concern}_output.png"
    return f"{concern}_output_{'all' if area == 'whole' else area}.png"


# --- choosing concerns ---------------------------------------------------------------


def _normalise(concerns: Iterable[str] | str) -> list[str]:
    """Names as a user types them: "Wrinkle, eye-bag" means ["wrinkle", "eye_bag"], and
    a preset name stands for its concerns."""
    if isinstance(concerns, str):
        concerns = [concerns]
    names: list[str] = []
    for item in concerns:
        for piece in str(item).split(","):
            name = piece.strip().lower()
            if not name:
                continue
            if name in PRESETS:
                names.extend(PRESETS[name])
            else:
                names.append(name.replace("-", "_"))
    return names


def _closest(name: str, candidates: Sequence[str]) -> str | None:
    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return found[0] if found else None


def check_concerns(concerns: Iterable[str] | str) -> tuple[str, ...]:
    """The concerns as the API wants them, or InvalidInput before anything is uploaded.

    The API's rules (003:787): exactly 4, 7 or 14 distinct names, all SD or all HD.
    Items may be comma-separated and may be preset names ("sd-4").
    """
    names = _normalise(concerns)
    unknown = [name for name in names if name not in _SD_SET and name not in _HD_SET]
    if unknown:
        # Suggest from the mode the rest of the list is in, so "dark_circle" among SD
        # names becomes dark_circle_v2 and not hd_dark_circle.
        known_hd = {name in _HD_SET for name in names if name not in unknown}
        if known_hd == {True}:
            candidates = HD_CONCERNS
        elif known_hd == {False}:
            candidates = SD_CONCERNS
        else:
            candidates = SD_CONCERNS + HD_CONCERNS
        suggestions = []
        for name in dict.fromkeys(unknown):
            best = _closest(name, candidates) or _closest(name, SD_CONCERNS + HD_CONCERNS)
            if best:
                suggestions.append(f'"{best}" for "{name}"')
        listed = ", ".join(f'"{name}"' for name in dict.fromkeys(unknown))
        plural = "s" if len(set(unknown)) > 1 else ""
        hint = f"Did you mean {', '.join(suggestions)}? " if suggestions else ""
        raise InvalidInput(
            f"unknown skin concern{plural} {listed}",
            hint=hint + f"SD concerns: {', '.join(SD_CONCERNS)}. HD concerns: the same with an hd_ "
            "prefix, except hd_dark_circle (not hd_dark_circle_v2).",
        )
    repeated = [name for name in dict.fromkeys(names) if names.count(name) > 1]
    if repeated:
        raise InvalidInput(
            f"skin concern{'s' if len(repeated) > 1 else ''} listed more than once: "
            + ", ".join(repeated),
            hint="The API wants 4, 7 or 14 distinct concerns; list each one once.",
        )
    sd = [name for name in names if name in _SD_SET]
    hd = [name for name in names if name in _HD_SET]
    if sd and hd:
        raise InvalidInput(
            f"SD and HD skin concerns cannot be mixed: SD {', '.join(sd)}; HD {', '.join(hd)}",
            hint="Use only SD names (wrinkle, pore, ...) or only HD names (hd_wrinkle, "
            "hd_pore, ...). HD needs a photo with a short side of at least 1080.",
        )
    if len(names) not in ALLOWED_COUNTS:
        raise InvalidInput(
            f"{len(names)} skin concern{'' if len(names) == 1 else 's'} given; "
            "the API takes exactly 4, 7 or 14",
            hint="Add or remove concerns, or use a preset: " + ", ".join(PRESETS) + ".",
        )
    return tuple(names)


def is_hd(concerns: Iterable[str] | str) -> bool:
    """Whether the concerns ask for HD analysis (and so HD's larger photo sizes)."""
    names = _normalise(concerns)
    return bool(names) and all(name in _HD_SET for name in names)


# --- unpacking the result ------------------------------------------------------------


# -- declarations -----------------------------------------------------------------------


# The `features` enum of the face analyzer, in the doc's order (003:2141 schema).
FACE_FEATURES: tuple[str, ...] = (
    "eyeShape",
    "eyeSize",
    "eyeAngle",
    "eyeDistance",
    "eyelid",
    "eyebrowShape",
    "eyebrowThickness",
    "eyebrowDistance",
    "eyebrowShortness",
    "cheekbones",
    "faceShape",
    "lipShape",
    "noseWidth",
    "noseLength",
    "age",
    "gender",
    "eyeColor",
    "lipColor",
    "eyebrowColor",
    "hairColor",
)
STRICTNESS = ("strict", "high", "medium", "low", "flexible")

# The size rules of the two skin-analysis modes (003:1156), answered with the codes of
# 003:1169-1170. Which one applies depends on the concerns chosen (HD ones start with
# hd_): the `skin_rules` hook picks one per command, the sandbox's `skin_mode` rules
# per run body; the declaration on the input only spans both for the help text.
SKIN_SD_RULES = MediaRules(
    max_long_side=1920,
    min_short_side=480,
    note="SD Skincare: long side <= 1920, short side >= 480 (003:1156)",
)
SKIN_HD_RULES = MediaRules(
    max_long_side=2560,
    min_short_side=1080,
    note="HD Skincare: long side <= 2560, short side >= 1080 (003:1156)",
)

SKIN_ANALYSIS = Feature(
    command="skin-analysis",
    slug="skin-analysis",
    title="AI Skin Analysis",
    summary="Score 4, 7 or 14 skin concerns of a face photo; unpack the masks and scores.",
    group="Analysis",
    seed_lines="003:776-1830; rules 003:787-823; ZIP 003:849-1154; limits 003:1156",
    inputs=(
        InputSpec(
            name="source",
            field="src_ids",
            help="Face photo, portrait orientation, face wider than 60% of the image "
            "(SD: long side <= 1920, short side >= 480; HD: long side <= 2560, short "
            "side >= 1080): a path, an http(s) URL, or id:<file_id>.",
            positional=True,
            rules=MediaRules(
                max_long_side=2560,
                min_short_side=480,
                note="SD or HD limits, chosen by the concerns (003:1156)",
            ),
        ),
    ),
    params=(
        Param(
            name="concern",
            kind="str_list",
            send=False,
            metavar="NAME",
            help="Skin concern to analyse: exactly 4, 7 or 14, all SD (wrinkle, pore, "
            "texture, acne, oiliness, radiance, eye_bag, age_spot, dark_circle_v2, "
            "droopy_upper_eyelid, droopy_lower_eyelid, firmness, moisture, redness) or "
            "all HD (the same with hd_, and hd_dark_circle). Give this or --preset.",
        ),
        Param(
            name="preset",
            kind="str",
            send=False,
            choices=tuple(PRESETS),
            help="A ready set of concerns: sd-4 is the doc's wrinkle, pore, texture, acne; "
            "sd-7 adds oiliness, radiance, eye_bag; sd-14 is all; hd-* the HD twins. "
            "Give this or --concern.",
        ),
        Param(
            name="overlay",
            kind="bool",
            send=False,
            help="Also write each mask blended over the photo (PNG, one per score) and "
            "a captioned contact sheet, in <result folder>/overlays/.",
        ),
        # Filled by the `skin_concerns` hook from --concern/--preset; a sibling of
        # `params`, not inside it (003:1693).
        Param(
            name="dst_actions",
            kind="str_list",
            path=("actions", 0),
            cli=False,
            required=True,
            help="Skin concerns to analyse: 4, 7 or 14 distinct names, all SD or all HD.",
        ),
    ),
    hooks={
        "prepare": "skin_concerns",
        "input_rules": "skin_rules",
        "check_job": "skin_check_job",
        "after": "skin_unpack",
    },
    result="zip",
    sandbox_result="skin_zip",
    sandbox_check="skin_dst_actions",
    sandbox_rules="skin_mode",
    error_hints={
        "error_below_min_image_size": "The photo is too small: SD needs a short side of at "
        "least 480, HD at least 1080.",
        "error_exceed_max_image_size": "The photo is too large: SD takes a long side up to "
        "1920, HD up to 2560; resize it.",
        "error_src_face_too_small": "The face must be wider than 60% of the image: crop "
        "closer to the face.",
        "error_src_face_out_of_bound": "The face is not fully inside the photo: centre it "
        "with some margin.",
        "error_lighting_dark": "The photo is too dark: retake it in even, bright light.",
    },
    examples=(
        "yce skin-analysis face.jpg --preset sd-4",
        "yce skin-analysis face.jpg --concern wrinkle,pore,texture,acne --overlay",
        "yce --json skin-analysis portrait.png --preset hd-14 -o results/",
    ),
)

FACE_ANALYZER = Feature(
    command="face-analyze",
    slug="face-attr-analysis",
    title="AI Face Analyzer",
    summary="Describe a face: shape of eyes, brows, lips and nose, colours, age, gender.",
    group="Analysis",
    seed_lines="003:1831-2324; sample 003:2141; result 003:2263; limits 003:1923",
    inputs=(
        InputSpec(
            name="source",
            field="src_ids",
            help="Photo of one person, face wider than 60% of the image: a path, an "
            "http(s) URL, or id:<file_id>.",
            positional=True,
            # The formats table says jpg/jpeg only (003:1923) although the upload enum
            # also lists png: we accept only what the table promises will be analysed.
            # The error table's minimum is 100x100 (003:1929).
            rules=MediaRules(
                content_types=("image/jpeg",),
                max_long_side=4096,
                min_short_side=100,
                note="long side <= 4096, at least 100x100, jpg/jpeg (003:1923-1929)",
            ),
        ),
    ),
    params=(
        Param(
            name="face_angle_strictness_level",
            kind="str",
            choices=STRICTNESS,
            default="high",
            option="--strictness",
            help="How frontal the face must be: strict (pitch <= 4, yaw <= 6, roll <= 4 "
            "degrees), high (<= 10), medium (<= 15), low (<= 20), flexible (<= 30).",
        ),
        # Required by the API with no default. When --feature is not given the
        # `face_features` hook asks for all 20: one task analyses the photo once, and
        # attributes not asked for could only be had by paying for another task.
        Param(
            name="features",
            key="feature",
            kind="str_list",
            required=True,
            choices=FACE_FEATURES,
            option="--feature",
            metavar="NAME",
            min_items=1,
            help="Attribute to analyse (default: all 20).",
        ),
    ),
    hooks={"prepare": "face_features", "after": "face_table"},
    result="json",
    sandbox_result="face_attributes",
    error_hints={
        "error_below_min_image_size": "The photo must be at least 100x100 pixels.",
        "error_face_position_invalid": "The face position is not usable: centre one face.",
        "error_face_position_too_small": "The face is too small: it must be wider than 60% "
        "of the image; crop closer.",
        "error_face_position_out_of_boundary": "The face is cut off: keep all of it inside "
        "the photo.",
        "error_face_not_forward_facing": "Face the camera, or pass a looser --strictness.",
        "error_face_angle_upward": "The head is tilted up: look straight ahead, or pass a "
        "looser --strictness.",
        "error_face_angle_downward": "The head is tilted down: look straight ahead, or pass "
        "a looser --strictness.",
        "error_face_angle_leftward": "The head is turned left: face the camera, or pass a "
        "looser --strictness.",
        "error_face_angle_rightward": "The head is turned right: face the camera, or pass a "
        "looser --strictness.",
        "error_face_angle_left_tilt": "The head leans left: hold it upright, or pass a "
        "looser --strictness.",
        "error_face_angle_right_tilt": "The head leans right: hold it upright, or pass a "
        "looser --strictness.",
    },
    examples=(
        "yce face-analyze face.jpg",
        "yce face-analyze face.jpg --feature faceShape,eyeShape --strictness medium",
        "yce --json face-analyze a.jpg b.jpg -o analyses/",
    ),
)

FEATURES: tuple[Feature, ...] = (SKIN_ANALYSIS, FACE_ANALYZER)
