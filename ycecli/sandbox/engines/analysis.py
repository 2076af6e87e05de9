"""The sandbox's engine for the analysis features (ycecli.features.analysis): producers
of (clearly not AI) results, the cross-field check of run bodies and the SD/HD input
rules. See ycecli.sandbox.model for the Producer, Check and Rules contracts.

Skin analysis returns the documented ZIP (ycecli.sandbox.skinzip: hashed scores,
ellipse masks). The face analyzer returns an `analysis_result` shaped like the doc's
sample (003:2263), its values picked by a hash of the photo and its colours measured
from the photo's pixels: the same photo always gives the same answer, and nobody could
take it for a real analysis.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ycecli.features.analysis import SKIN_HD_RULES, SKIN_SD_RULES, is_hd
from ycecli.sandbox.imaging import open_rgb
from ycecli.sandbox.model import Check, Output, Producer, Rules, SandboxError
from ycecli.sandbox.skinzip import build_skin_zip, check_dst_actions

# --- skin analysis -----------------------------------------------------------------


def skin_zip(inputs, params) -> list:
    data, _ = inputs["source"][0]
    concerns = params.get("dst_actions") or []
    # The API's result entries have only a `url` (003:1817): no dst_id.
    return [Output(build_skin_zip(data, concerns), "application/zip", dst_id=False)]


def skin_mode(feature, payload) -> dict:
    """SD or HD limits (003:1156), chosen as the engine chooses its mode: by the
    concerns asked for, HD ones being named hd_ (003:1646)."""
    concerns = payload["actions"][0].get("dst_actions") or []
    return {"source": SKIN_HD_RULES if is_hd(concerns) else SKIN_SD_RULES}


def check_skin_dst_actions(feature, body) -> None:
    """The doc's 400 messages for the 4/7/14, no-mix and known-name rules (003:787)."""
    action = body["payload"]["actions"][0]
    message = check_dst_actions(action.get("dst_actions") or [])
    if message:
        raise SandboxError(400, message, "InvalidParameters")


# --- face analyzer -----------------------------------------------------------------

# Values from the doc's lists (003:1842-1915), spelt as its sample spells them where
# the two disagree (e.g. "Flat Cheekbone", "Bow", "Thin").
_FACE_SHAPES = ("Round", "Oval", "Square", "Oblong", "Heart", "Diamond", "Triangle")
_EYE_SHAPES = ("Round", "Almond", "Narrow")
_SIZES = ("Big", "Small", "Average")
_ANGLES = ("Upturned", "Downturned", "Average")
_SETTINGS = ("Wide-set", "Close-set", "Average")
_EYELIDS = ("Double-lid", "Single-lid", "Hooded-lid", "Deep-set eyelid")
_BROW_SHAPES = ("Hard Angled", "Soft Angled", "Rounded", "Straight")
_DENSITY = ("Sparse", "Average", "Dense")
_THINNESS = ("Thin", "Average", "Thick")
_GAPS = ("Far-Apart", "Close", "Average")
_SHORTNESS = ("Short", "Average")
_LIP_SHAPES = ("Round", "Bow", "Downturned", "Average")
_NOSE_WIDTHS = ("Broad", "Narrow", "Average")
_NOSE_LENGTHS = ("Long", "Short", "Average")
_CHEEKBONES = ("Flat Cheekbone", "High Cheekbone", "Low Cheekbone", "Round Cheekbone")
_EYE_COLOURS = ("Amber", "Blue", "Brown", "Gray", "Green", "Hazel")
_HAIR_COLOURS = ("Auburn", "Black", "Blonde", "Brown", "Gray", "Red")


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb[:3])


def face_attributes(inputs, params) -> list:
    data, _ = inputs["source"][0]
    img = open_rgb(data)
    seed = hashlib.sha256(data).digest()

    def pick(key: str, values: tuple):
        digest = hashlib.sha256(seed + key.encode()).digest()
        return values[digest[0] % len(values)]

    # Colours are the mean colour of bands of the photo: top (hair), upper middle
    # (brows, eyes), lower middle (lips), centre (skin).
    width, height = img.size

    def band(top: float, bottom: float, left: float = 0.0, right: float = 1.0) -> str:
        box = (int(left * width), int(top * height), int(right * width), int(bottom * height))
        region = img.crop(box).resize((1, 1))
        return _hex(region.getpixel((0, 0)))

    wanted = set(params.get("features") or [])
    result: dict[str, Any] = {
        "face_quality": {
            "has_face": True,
            "area": "good",
            "frontal": "good",
            "lighting": "good",
            "faceangle": "good",
        }
    }
    if "cheekbones" in wanted:
        left, right = pick("cheek-l", _CHEEKBONES), pick("cheek-r", _CHEEKBONES)
        result["cheekbone"] = {"left": left, "right": right, "overrall": left}  # sic (003)
    eyelid: dict[str, Any] = {}
    for side in ("left", "right"):
        if "eyelid" in wanted:
            eyelid[f"{side}_eyelid"] = pick(f"lid-{side}", _EYELIDS)
        if "eyeAngle" in wanted:
            eyelid[f"{side}_angle"] = pick(f"angle-{side}", _ANGLES)
        if "eyeShape" in wanted:
            eyelid[f"{side}_shape"] = pick(f"shape-{side}", _EYE_SHAPES)
    if "eyeDistance" in wanted:
        eyelid["setting"] = pick("setting", _SETTINGS)
    if "eyeSize" in wanted:
        eyelid["size"] = pick("size", _SIZES)
    if eyelid:
        result["eyelid"] = _ordered(eyelid, _EYELID_ORDER)
    brow: dict[str, Any] = {}
    if "eyebrowDistance" in wanted:
        brow["gap"] = pick("gap", _GAPS)
    for side in ("left", "right"):
        if "eyebrowShape" in wanted:
            brow[f"{side}_shape"] = pick(f"brow-{side}", _BROW_SHAPES)
        if "eyebrowThickness" in wanted:
            brow[f"{side}_body_thickness"] = pick(f"body-{side}", _DENSITY)
            brow[f"{side}_tail_thickness"] = pick(f"tail-{side}", _DENSITY)
            brow[f"{side}_thinness"] = pick(f"thin-{side}", _THINNESS)
        if "eyebrowShortness" in wanted:
            brow[f"{side}_shortness"] = pick(f"short-{side}", _SHORTNESS)
    if brow:
        result["eyebrow"] = _ordered(brow, _BROW_ORDER)
    if "faceShape" in wanted:
        result["faceshape"] = pick("face", _FACE_SHAPES)
    if "lipShape" in wanted:
        result["lipshape"] = [pick("lips", _LIP_SHAPES)]
    nose = {}
    if "noseWidth" in wanted:
        nose["width"] = pick("nose-w", _NOSE_WIDTHS)
    if "noseLength" in wanted:
        nose["length"] = pick("nose-l", _NOSE_LENGTHS)
    if nose:
        result["nose"] = nose
    colour: dict[str, Any] = {}
    if "eyeColor" in wanted:
        colour["eye_color"] = band(0.35, 0.45, 0.25, 0.75)
        colour["eye_color_name"] = pick("eye-colour", _EYE_COLOURS)
    if "lipColor" in wanted:
        colour["lip_color"] = band(0.65, 0.8, 0.35, 0.65)
    if "eyebrowColor" in wanted:
        colour["eyebrow_color"] = band(0.28, 0.35, 0.25, 0.75)
    if colour or "hairColor" in wanted:
        # The sample carries skin_color though no feature asks for it.
        colour["skin_color"] = band(0.45, 0.65, 0.3, 0.7)
    if "hairColor" in wanted:
        colour["hair_color"] = band(0.0, 0.12)
        colour["hair_color_name"] = pick("hair-colour", _HAIR_COLOURS)
    if colour:
        result["color"] = _ordered(colour, _COLOUR_ORDER)
    agegender: dict[str, Any] = {}
    if "age" in wanted:
        agegender["age"] = 18 + seed[1] % 53
    if "gender" in wanted:
        agegender["gender"] = pick("gender", ("female", "male"))
    if agegender:
        result["agegender"] = agegender
    return [Output(fields={"analysis_result": result})]


# The key order of the doc's sample (003:2263).
_EYELID_ORDER = (
    "left_eyelid",
    "left_angle",
    "left_shape",
    "right_eyelid",
    "right_angle",
    "right_shape",
    "setting",
    "size",
)
_BROW_ORDER = tuple(
    ["gap"]
    + [
        f"{side}_{name}"
        for side in ("left", "right")
        for name in ("shape", "body_thickness", "tail_thickness", "thinness", "shortness")
    ]
)
_COLOUR_ORDER = (
    "eye_color",
    "eye_color_name",
    "lip_color",
    "eyebrow_color",
    "skin_color",
    "hair_color",
    "hair_color_name",
)


def _ordered(values: dict, order: tuple[str, ...]) -> dict:
    return {key: values[key] for key in order if key in values}


PRODUCERS: dict[str, Producer] = {
    "skin_zip": skin_zip,
    "face_attributes": face_attributes,
}
CHECKS: dict[str, Check] = {"skin_dst_actions": check_skin_dst_actions}
RULES: dict[str, Rules] = {"skin_mode": skin_mode}
