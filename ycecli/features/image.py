"""Image editing features (003: AI Photo Editing)."""

from __future__ import annotations

from ycecli.features.spec import Feature, InputSpec, Param

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

FEATURES = (ENHANCE,)
