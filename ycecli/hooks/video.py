"""Hooks of the video features (see ycecli.hooks for the stages).

- `video_style_required`: a style feature run without --style is refused with the
  command that lists the styles.
- `i2v_check_job`: image to video's aspect-ratio rule (003:16383).
- `video_duration`: the clip features' `custom.dst_duration`, which must equal the
  clip's length (error_unexpected_video_duration, 003:420), read from the clip's own
  mp4 headers (ycecli.validate) or, where they cannot tell (an id: input, a fragmented
  mp4 whose header states no length), taken from --duration; the documented duration
  and resolution limits are checked on the way, before anything is uploaded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ycecli.errors import InvalidInput
from ycecli.features.spec import DURATION_SLACK
from ycecli.features.video import CLIP_LIMITS
from ycecli.validate import check_video


def video_style_required(ctx, params: dict) -> dict:
    command = ctx.feature.command
    if not params.get("style_ids"):
        raise InvalidInput(
            f"{command}: --style is required",
            hint=f"Choose one with `yce styles list {command}` and pass --style <id>.",
        )
    return params


# "aspect ratio between 1:2.5 ~ 2.5:1" (003:16383), the ends included: long/short <=
# 5/2, compared in integers so that exactly 2.5:1 passes.
def i2v_check_job(ctx, job, params: dict) -> None:
    ref = job.refs["source"][0]
    info = ref.info
    if info is None or not info.width or not info.height:
        return  # an id: input was checked when it was made
    long_side, short_side = max(info.width, info.height), min(info.width, info.height)
    if 2 * long_side > 5 * short_side:
        raise InvalidInput(
            f"source {ref.text}: {info.width}x{info.height} has an aspect ratio of "
            f"{long_side / short_side:.2f}:1, outside 1:2.5 to 2.5:1",
            hint="Crop it so that the long side is at most 2.5 times the short side.",
        )


def dst_seconds(seconds: float) -> int:
    """The whole seconds sent as dst_duration for a clip of `seconds`.

    The doc types dst_duration as an integer and wants it equal to the clip's length,
    without saying how a fractional length is rounded. Rounding up (after the same
    slack video.py allows, since a clip cut to exactly N seconds often reports a few
    hundredths more) never asks for less video than the clip holds, so an engine that
    trims to dst_duration cannot cut off the user's last frames; an engine that insists
    on another rounding fails the task, and a failed task costs no units.
    """

    return max(1, math.ceil(seconds - DURATION_SLACK))


def video_duration(ctx, job, params: dict) -> dict:

    max_seconds, max_long_side = CLIP_LIMITS[ctx.feature.slug]
    ref = job.refs["source"][0]
    given = params.get("duration")
    if given is not None and given > max_seconds + DURATION_SLACK:
        raise InvalidInput(
            f"--duration {given:g}: longer than the {max_seconds:g} s this feature takes",
            hint=f"Trim the clip to {max_seconds:g} seconds or less.",
        )
    measured = None
    if ref.path is not None:
        info = check_video(
            ref.path, max_duration=max_seconds, max_long_side=max_long_side, label="source"
        )
        measured = info.duration
    if measured is None and given is None:
        if ref.path is None:
            why = "it is a file id, which yce cannot measure"
        else:
            why = "its mp4 header does not state it (a fragmented mp4)"
        raise InvalidInput(
            f"{job.label}: the clip's length is needed (the API wants it in "
            f"custom.dst_duration) and {why}",
            hint="Give it with --duration SECONDS.",
        )
    if measured is not None and given is not None and dst_seconds(given) != dst_seconds(measured):
        raise InvalidInput(
            f"--duration {given:g} does not match {job.label}, which is {measured:.2f} s "
            "long (its mp4 header says so)",
            hint="Leave out --duration: yce measures the clip itself.",
        )
    seconds = measured if measured is not None else given
    assert seconds is not None  # one of them is known, or the hook raised above
    return {**params, "dst_duration": dst_seconds(seconds)}


HOOKS: dict[str, Callable[..., Any]] = {
    "video_style_required": video_style_required,
    "i2v_check_job": i2v_check_job,
    "video_duration": video_duration,
}
