"""Default output names, and turning a result into the format its `-o` name asks for.

The rule (README "Output names"): `<input>_<command>` followed, for every parameter
the user set to something other than its default, by `_<option>-<value>` (a switch:
`_<option>` or `_no-<option>`) in the order `yce COMMAND --help` lists them, then
`_<option>-<file>` for every extra input (a reference, mask, garment...), then the
result's extension. So `yce hair-color selfie.jpg --preset "Honey Blonde"` writes
`selfie_hair-color_preset-honey-blonde.jpg`: another command with other parameters
gets another name, and a rerun with the same ones finds its earlier result there.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ycecli.errors import InvalidInput, UsageError

if TYPE_CHECKING:
    from ycecli.features import Feature

# A value longer than this is cut, and a digest of the whole value keeps names apart.
VALUE_CHARS = 24

# What `-o NAME.EXT` may name for each kind of result.
IMAGE_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}
RESULT_SUFFIXES = {"image": tuple(IMAGE_FORMATS), "video": (".mp4",)}


def slug(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "-".join(slug(v) for v in value)
    if isinstance(value, str) and os.sep in value and Path(value).is_file():
        value = Path(value).stem  # a parameter that may name a file (a background)
    text = re.sub(r"[^a-z0-9.]+", "-", str(value).lower()).strip("-.")
    if len(text) > VALUE_CHARS:
        digest = hashlib.sha256(str(value).encode()).hexdigest()[:6]
        text = text[:VALUE_CHARS].rstrip("-.") + "-" + digest
    return text or "x"


def _stem(text: str) -> str:
    if text.startswith("id:"):
        return "id-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return Path(text.split("?")[0].rstrip("/")).stem or "file"


def name_tail(feature: Feature, params: Mapping[str, Any], extra_inputs: Mapping[str, Any]) -> str:
    """The `_<option>-<value>...` part of a default name (empty with defaults only)."""
    parts = []
    for param in feature.params:
        if not param.cli or params.get(param.id) in (None, []):
            continue
        value = params[param.id]
        try:
            same = param.coerce(value) == param.default
        except InvalidInput:
            same = False  # refused later, with the rule it breaks
        if same:
            continue
        option = param.flag.lstrip("-")
        if isinstance(value, bool):
            parts.append(option if value else f"no-{option}")
        else:
            parts.append(f"{option}-{slug(value)}")
    for spec in feature.inputs:
        given = extra_inputs.get(spec.name)
        if spec.positional or not given:
            continue
        values = [given] if isinstance(given, str) else list(given)
        parts.append(f"{spec.flag.lstrip('-')}-{slug([_stem(v) for v in values])}")
    return "".join(f"_{p}" for p in parts)


def check_output_name(feature: Feature, output: str | Path, inputs: int, as_dir: bool) -> None:
    """Refuse an `-o` that cannot be honoured, before anything is spent: one file name
    for several inputs, or an extension the result cannot be turned into."""
    path = Path(output)
    if as_dir:
        if inputs > 1 and not path.is_dir() and path.suffix and not str(output).endswith("/"):
            raise UsageError(
                f"-o {output} names one file, but {inputs} inputs give {inputs} results",
                hint=f"Write them into a folder: -o {path.with_suffix('')}/ "
                "(a trailing / or an existing folder).",
            )
        return
    allowed = RESULT_SUFFIXES.get(feature.result, ())
    suffix = path.suffix.lower()
    if suffix and allowed and suffix not in allowed:
        raise UsageError(
            f"-o {output}: {feature.command}'s result is {feature.result}, which yce "
            f"cannot write as {suffix}",
            hint=f"Name the file with one of {', '.join(allowed)}.",
        )


def convert_image(source: Path, target: Path) -> bool:
    """Rewrite `source` in the format `target`'s extension names, into `source` itself;
    False when it already is in that format. Transparency is flattened onto white
    for JPEG, which has none."""
    from PIL import Image

    wanted = IMAGE_FORMATS.get(target.suffix.lower())
    if wanted is None:
        return False
    with Image.open(source) as img:
        if img.format == wanted:
            return False
        img.load()
        if wanted == "JPEG" and img.mode not in ("RGB", "L"):
            rgba = img.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            img = flat
        img.save(source, format=wanted, **({"quality": 95} if wanted == "JPEG" else {}))
    return True
