"""The shapes of the registry: what a feature declaration is made of.

Everything feature-specific elsewhere is derived from declarations of these types:
the Typer commands and their options, input and parameter validation, the request
body, the sandbox's request checks and results, completions and man pages.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple

from ycecli.errors import InvalidInput

# "< 10MB" in the seeds (003:376) does not say whether MB means 10^6 or 2^20 bytes.
# We take the smaller reading: a file the server might refuse is refused here,
# before it is uploaded, rather than after.
TEN_MB = 10_000_000
HUNDRED_MB = 100_000_000

# A clip cut to exactly N seconds often reports a few hundredths more (audio priming,
# the last frame's duration); refusing it locally would turn away a video the API
# takes.
DURATION_SLACK = 0.1

IMAGE_CONTENT_TYPES = ("image/jpeg", "image/png")
VIDEO_CONTENT_TYPES = ("video/mp4",)

# Help panels, in the order `yce --help` shows them.
GROUPS = (
    "Image editing",
    "Portrait and hair",
    "Clothes",
    "Analysis",
    "Video",
    "Try-on",
)


@dataclass(frozen=True)
class RuleCodes:
    """The task-status `error` the engine reports for each kind of broken input rule.

    These are engine errors, not HTTP ones: 003 lists them in each feature's "Error
    Codes" table and the status reply's `error` field (CATALOG 1.10-1.11); the file is
    uploaded and the task started before the engine looks at the pixels. Where a
    feature's table names no code for a rule, the code the other tables use for the
    same rule is taken (e.g. error_exceed_max_image_size, 003:1170, 003:2360, 003:15626).
    """

    download: str = "error_download_image"  # 003:413: the file never arrived
    decode: str = "error_decode_image"  # 003:415: not a format the engine reads
    file_size: str = "exceed_max_filesize"  # 003:411, 003:6498
    too_small: str = "error_below_min_image_size"  # 003:1169, 003:1933, 003:2359
    too_large: str = "error_exceed_max_image_size"  # 003:1170, 003:2360, 003:15626
    aspect_ratio: str = "error_unsupport_ratio"  # 003:432
    # 003 documents one code about a clip's length, 003:430 "Video durateion is not
    # equal to the dstDuration"; a clip over the limit cannot equal any dst_duration
    # within the limit, so it is that code that a too-long clip gets.
    duration: str = "error_unexpected_video_duration"


IMAGE_CODES = RuleCodes()
MASK_CODES = RuleCodes(download="error_download_mask", decode="error_decode_mask")  # 003:414-416
# 003:417-418. The table has no code for a clip's resolution; the image one is kept.
VIDEO_CODES = RuleCodes(download="error_download_video", decode="error_decode_video")
# v2 try-on (000:145-152, 001:132-139): "INPUT_ERROR: The input file format is
# incorrect", "PHOTO_CHECK_INVALID: The pose or size of the user photo is invalid".
# The product image has no size code of its own; INPUT_ERROR is the one that names an
# input file.
VTO_PHOTO_CODES = RuleCodes(
    download="INPUT_ERROR",
    decode="INPUT_ERROR",
    file_size="PHOTO_CHECK_INVALID",
    too_small="PHOTO_CHECK_INVALID",
    too_large="PHOTO_CHECK_INVALID",
)
VTO_PRODUCT_CODES = RuleCodes(
    download="INPUT_ERROR",
    decode="INPUT_ERROR",
    file_size="INPUT_ERROR",
    too_small="INPUT_ERROR",
    too_large="INPUT_ERROR",
)

# Sample-entry codes of an mp4's tracks, and the names 003:399-401 gives them:
# "video codec: MPEG-4, H.264 AVC; audio codec: aac, mp3". `mp4a` carries AAC or MP3
# (its object type says which); `.mp3` is MP3 on its own.
H264_OR_MPEG4 = ("avc1", "avc3", "mp4v")
AAC_OR_MP3 = ("mp4a", ".mp3")
CODEC_NAMES = {"avc1": "H.264", "avc3": "H.264", "mp4v": "MPEG-4", "mp4a": "aac", ".mp3": "mp3"}


class Breach(NamedTuple):
    """One broken input rule: which kind (an attribute of RuleCodes), what is wrong
    with the file, and how to fix it."""

    kind: str
    problem: str
    fix: str


@dataclass(frozen=True)
class MediaRules:
    """What an input file must be for the engine to take it. yce checks it before
    uploading (ycecli.validate); the sandbox's engine checks it again on the uploaded
    bytes (ycecli.sandbox.inputs) and answers with `codes`."""

    content_types: tuple[str, ...] = IMAGE_CONTENT_TYPES
    max_bytes: int = TEN_MB  # strictly less than this
    max_long_side: int | None = 4096
    min_short_side: int | None = None
    max_short_side: int | None = None
    min_long_side: int | None = None
    # Strictly less than, as 003:2360 words it ("width < 1920px, height < 1080px").
    width_under: int | None = None
    height_under: int | None = None
    max_aspect_ratio: float | None = None  # long side / short side, the end included
    max_seconds: float | None = None  # a clip's length
    video_codecs: tuple[str, ...] = ()  # accepted sample entries (empty: any)
    audio_codecs: tuple[str, ...] = ()
    codes: RuleCodes = IMAGE_CODES
    note: str = ""  # the seed's wording, shown in help

    def describe(self) -> str:
        kinds = "/".join(t.split("/")[1] for t in self.content_types)
        parts = [kinds, f"< {self.max_bytes // 1_000_000} MB"]
        if self.max_long_side:
            parts.append(f"long side <= {self.max_long_side}")
        if self.min_long_side:
            parts.append(f"long side >= {self.min_long_side}")
        if self.min_short_side:
            parts.append(f"short side >= {self.min_short_side}")
        if self.max_short_side:
            parts.append(f"short side <= {self.max_short_side}")
        if self.width_under:
            parts.append(f"width < {self.width_under}")
        if self.height_under:
            parts.append(f"height < {self.height_under}")
        if self.max_aspect_ratio:
            parts.append(f"aspect ratio 1:{self.max_aspect_ratio:g} to {self.max_aspect_ratio:g}:1")
        if self.max_seconds:
            parts.append(f"up to {self.max_seconds:g} s")
        if self.video_codecs:
            parts.append(_codec_list(self.video_codecs) + " video")
        if self.audio_codecs:
            parts.append(_codec_list(self.audio_codecs) + " audio")
        return ", ".join(parts)

    def size_breach(self, width: int, height: int) -> Breach | None:
        """The first size rule a picture (or a clip's frame) of width x height breaks."""
        long_side, short_side = max(width, height), min(width, height)
        size = f"{width}x{height}"
        if self.max_long_side and long_side > self.max_long_side:
            return Breach(
                "too_large",
                f"{size} has a long side over {self.max_long_side}",
                f"Resize it so the long side is at most {self.max_long_side}",
            )
        if self.max_short_side and short_side > self.max_short_side:
            return Breach(
                "too_large", f"{size} has a short side over {self.max_short_side}", "Resize it"
            )
        wide = self.width_under and width >= self.width_under
        tall = self.height_under and height >= self.height_under
        if wide or tall:
            return Breach(
                "too_large",
                f"{size} is too large: the width must be under {self.width_under} and the "
                f"height under {self.height_under}",
                f"Resize it so that width < {self.width_under} and height < {self.height_under}",
            )
        low_long = self.min_long_side and long_side < self.min_long_side
        low_short = self.min_short_side and short_side < self.min_short_side
        if self.min_long_side and self.min_short_side and (low_long or low_short):
            # 003:6438 words the two minimums as one size: "minimum 512x384".
            return Breach(
                "too_small",
                f"{size} is under the minimum {self.min_long_side}x{self.min_short_side}",
                "Use a larger image",
            )
        if low_long:
            return Breach(
                "too_small",
                f"{size} has a long side under {self.min_long_side}",
                "Use a larger image",
            )
        if low_short:
            return Breach(
                "too_small",
                f"{size} has a short side under {self.min_short_side}",
                "Use a larger image",
            )
        if self.max_aspect_ratio and short_side:
            limit = Fraction(str(self.max_aspect_ratio))
            if long_side * limit.denominator > short_side * limit.numerator:
                ratio = f"{self.max_aspect_ratio:g}"
                return Breach(
                    "aspect_ratio",
                    f"{size} has an aspect ratio of {long_side / short_side:.2f}:1, outside "
                    f"1:{ratio} to {ratio}:1",
                    f"Crop it so that the long side is at most {ratio} times the short side",
                )
        return None

    def clip_breach(
        self,
        *,
        video_codec: str | None,
        audio_codecs: tuple[str, ...],
        width: int | None,
        height: int | None,
        seconds: float | None,
    ) -> Breach | None:
        """The first rule a clip breaks, judged on what its headers state (None: unknown)."""
        if self.video_codecs and video_codec is not None and video_codec not in self.video_codecs:
            return Breach(
                "decode",
                f"its video is {video_codec!r}, not {_codec_list(self.video_codecs)}",
                f"Re-encode it as {_codec_list(self.video_codecs)} video",
            )
        wrong_audio = [c for c in audio_codecs if c not in self.audio_codecs]
        if self.audio_codecs and wrong_audio:
            return Breach(
                "decode",
                f"its audio is {wrong_audio[0]!r}, not {_codec_list(self.audio_codecs)}",
                f"Re-encode its audio as {_codec_list(self.audio_codecs)}",
            )
        if width and height:
            breach = self.size_breach(width, height)
            if breach is not None:
                return breach
        limit = self.max_seconds
        if limit is not None and seconds is not None and seconds > limit + DURATION_SLACK:
            return Breach(
                "duration",
                f"{seconds:.2f} s is longer than the {self.max_seconds:g} s limit",
                f"Trim it to {self.max_seconds:g} seconds or less",
            )
        return None


def _codec_list(codes: tuple[str, ...]) -> str:
    return "/".join(dict.fromkeys(CODEC_NAMES.get(c, c) for c in codes))


IMAGE_4096 = MediaRules(note="Input: long side <= 4096 (003:376-401)")
MASK_4096 = MediaRules(codes=MASK_CODES, note=IMAGE_4096.note)


@dataclass(frozen=True)
class InputSpec:
    """One file input of a feature, and where its file id (or URL) goes."""

    name: str  # Python/CLI name: the positional argument or --option
    field: str  # where the file id goes: a key of payload.file_sets (v1) or of the body (v2)
    help: str
    rules: MediaRules = IMAGE_4096
    required: bool = True
    positional: bool = False  # the main input: a positional argument, one task per value
    argument: bool = False  # a single positional argument shared by every task
    # v2 try-on takes a public URL in place of an uploaded file: the field it goes in.
    url_field: str | None = None
    # Whether the field holds a list of ids (v1 file_sets always do).
    as_list: bool = True
    option: str | None = None  # CLI flag for a non-positional input (default --name)
    metavar: str | None = None  # how help names a positional input
    # Where this input is uploaded, when not the feature's own file endpoint (e.g. an
    # image input of a feature whose endpoint takes only video).
    upload_path: str | None = None
    multiple: bool = False  # a non-positional input that may be given several times

    @property
    def flag(self) -> str:
        return self.option or "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Param:
    """One task parameter: its API name, type, limits and default, and where it goes."""

    name: str  # the field name in the API
    # "int" | "float" | "str" | "bool" | "point" | "points" | "str_list" | "int_list"
    # | "object" | "object_list" (the last two are built by hooks, never typed by users)
    kind: str
    help: str
    required: bool = False
    default: Any = None  # the documented default; None means "leave it out of the body"
    choices: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False  # "greater than" rather than "at least"
    # Words accepted in place of values, e.g. {"ring": 3} for a finger index.
    aliases: Mapping[str, Any] = field(default_factory=dict)
    count: int | None = None  # for "points": how many points exactly
    # Where the value lives, relative to the payload root (`payload` in v1, the body in
    # v2). Most v1 features put parameters in the single action's `params`.
    path: tuple = ("actions", 0, "params")
    option: str | None = None  # CLI flag; defaults to --name with dashes
    metavar: str | None = None
    pattern: str | None = None  # regular expression a str (or each str_list item) matches
    min_items: int | None = None  # for list kinds
    max_items: int | None = None
    # The Python/CLI identity; defaults to `name`. Two parameters may share an API name
    # in different places (e.g. a `name` inside `pattern`).
    key: str | None = None
    send: bool = True  # False: a CLI option a hook consumes; never put in the body as is
    cli: bool = True  # False: set by a hook from other options, not a CLI option

    @property
    def id(self) -> str:
        return self.key or self.name

    @property
    def flag(self) -> str:
        if self.option:
            return self.option.split("/")[0]
        return "--" + self.id.replace("_", "-")

    def describe_range(self) -> str:
        if self.kind in ("str_list", "int_list"):
            counts = ""
            if self.min_items is not None or self.max_items is not None:
                counts = f" ({self.min_items or 0}..{self.max_items or 'any'} items)"
            items = ", ".join(str(c) for c in self.choices) if self.choices else ""
            return (f"any of {items}" if items else "a list") + counts
        if self.choices:
            words = [f"{w} ({v})" for w, v in self.aliases.items()] if self.aliases else []
            return "one of " + ", ".join(words or [str(c) for c in self.choices])
        low = self.minimum
        if self.kind == "point":
            return "X,Y in pixels"
        if self.kind == "points":
            return f"{self.count} point(s) X,Y in pixels"
        if low is not None and self.maximum is not None:
            return f"{low}..{self.maximum}"
        if low is not None:
            return f"> {low}" if self.exclusive_minimum else f">= {low}"
        if self.maximum is not None:
            return f"<= {self.maximum}"
        return ""

    def _fail(self, value: Any, why: str) -> InvalidInput:
        return InvalidInput(
            f"{self.flag}: {value!r} {why}",
            hint=f"{self.flag} must be {self.describe_range() or 'a ' + self.kind}.",
        )

    def coerce(self, value: Any) -> Any:
        """Convert and check one value; raise InvalidInput naming the rule it broke."""
        if isinstance(value, str) and value.strip().lower() in self.aliases:
            value = self.aliases[value.strip().lower()]
        if self.kind == "point":
            return _to_point(self, value)
        if self.kind == "points":
            points = [_to_point(self, v) for v in (value if isinstance(value, list) else [value])]
            if self.count is not None and len(points) != self.count:
                raise self._fail(value, f"gives {len(points)} point(s), not {self.count}")
            return points
        if self.kind in ("str_list", "int_list"):
            return self._coerce_list(value)
        if self.kind in ("object", "object_list"):
            return value  # built by a hook from checked options
        converters: dict[str, Callable[[Any], Any]] = {
            "int": _to_int,
            "float": _to_float,
            "str": str,
            "bool": _to_bool,
        }
        try:
            converted = converters[self.kind](value)
        except (TypeError, ValueError):
            raise self._fail(value, f"is not a valid {self.kind}") from None
        if self.kind == "float" and not math.isfinite(converted):
            # NaN passes every range comparison below, and JSON has no NaN or Infinity.
            raise self._fail(value, "is not a finite number")
        if self.choices and converted not in self.choices:
            raise self._fail(value, "is not allowed")
        low = self.minimum
        if low is not None and (converted <= low if self.exclusive_minimum else converted < low):
            raise self._fail(value, f"is below the minimum {low}")
        if self.maximum is not None and converted > self.maximum:
            raise self._fail(value, f"is above the maximum {self.maximum}")
        if self.pattern and not re.fullmatch(self.pattern, str(converted)):
            raise self._fail(value, "has the wrong form")
        return converted

    def _coerce_list(self, value: Any) -> list:
        raw = value if isinstance(value, (list, tuple)) else [value]
        items: list = []
        for entry in raw:
            # `--feature a,b --feature c` and `--feature a --feature b` both work
            parts = str(entry).split(",") if isinstance(entry, str) else [entry]
            items.extend(p.strip() if isinstance(p, str) else p for p in parts if p != "")
        if self.kind == "int_list":
            try:
                # int() of the text keeps ids above 2**53 exact; never via float
                items = [_to_int(v) for v in items]
            except (TypeError, ValueError):
                raise self._fail(value, "is not a list of integers") from None
        if self.choices:
            for item in items:
                if item not in self.choices:
                    close = difflib.get_close_matches(str(item), [str(c) for c in self.choices], 1)
                    hint = f" (did you mean {close[0]}?)" if close else ""
                    raise self._fail(item, f"is not one of the allowed values{hint}")
        if self.pattern:
            for item in items:
                if not re.fullmatch(self.pattern, str(item)):
                    raise self._fail(item, "has the wrong form")
        if len(set(map(str, items))) != len(items):
            raise self._fail(value, "repeats a value")
        if self.min_items is not None and len(items) < self.min_items:
            raise self._fail(value, f"has {len(items)} item(s), fewer than {self.min_items}")
        if self.max_items is not None and len(items) > self.max_items:
            raise self._fail(value, f"has {len(items)} item(s), more than {self.max_items}")
        return items


def _to_point(param: Param, value: Any) -> list[int]:
    if isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        parts = str(value).replace(" ", "").split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        point = [_to_int(p) for p in parts]
    except (TypeError, ValueError):
        raise param._fail(value, "is not a point X,Y of two integers") from None
    if min(point) < 0:
        raise param._fail(value, "has a negative coordinate")
    return point


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("bool is not an int")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not an integer")
        return int(value)
    return int(value)


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("bool is not a float")
    return float(value)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


@dataclass(frozen=True)
class Feature:
    """One API feature, declared once."""

    command: str  # `yce <command>`
    slug: str  # the path segment in the API
    title: str  # the vendor's name for it
    summary: str  # one line for `yce --help`
    group: str  # one of GROUPS
    inputs: tuple[InputSpec, ...]
    params: tuple[Param, ...] = ()
    result: str = "image"  # "image" | "video" | "zip" | "json"
    generation: str = "v1"
    upload_path: str = "/s2s/v1.1/file/{slug}"
    task_path: str = "/s2s/v1.0/task/{slug}"
    # v2 polls at task_path + "/{task_id}"; v1 polls task_path?task_id=...
    # A profile field that may override task_path (where the seeds disagree on it).
    task_path_setting: str | None = None
    # How the request body is laid out: "v1" (request_id + payload.file_sets/actions)
    # or "vto" (the v2 try-on body of seed 002).
    body_style: str = "v1"
    # True when the action carries a `params` object even if no parameter is set.
    action_params: bool = True
    # v2 try-on sends every declared parameter, null where unset (as 002's sample does).
    send_nulls: bool = False
    file_sets: bool = True  # False: the body has no payload.file_sets (text-to-image)
    # Named steps of a feature's special flow, looked up in ycecli.hooks: stage -> name.
    # Stages: "prepare", "input_rules", "check_job", "job_params", "after".
    hooks: Mapping[str, str] = field(default_factory=dict)
    styles: bool = False  # has the style-list endpoints (003:1.14.5)
    hidden: bool = False  # a step of another feature's flow, not a command of its own
    # A named cross-field check the sandbox runs on run bodies (ycecli.sandbox.checks).
    sandbox_check: str | None = None
    examples: tuple[str, ...] = ()
    seed_lines: str = ""
    # Hints shown with the engine's error codes, in addition to the generic ones.
    error_hints: Mapping[str, str] = field(default_factory=dict)
    # How the sandbox derives a (clearly not AI) result from the inputs; a name
    # looked up in ycecli.sandbox.engines.PRODUCERS.
    sandbox_result: str = "copy"
    # A named choice of input rules that depend on the run body (SD or HD skin
    # analysis, clothes' garment mode), looked up in ycecli.sandbox.engines.RULES; the
    # rules themselves are declared with the feature.
    sandbox_rules: str | None = None
    # Units the sandbox charges per successful task. The seeds give no prices
    # (003:343 points to a web page), so this is only the sandbox's ledger.
    sandbox_units: int = 1
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def upload_url_path(self) -> str:
        return self.upload_path.format(slug=self.slug)

    @property
    def task_url_path(self) -> str:
        return self.task_path.format(slug=self.slug)

    @property
    def primary_input(self) -> InputSpec | None:
        """The positional input with one task per value; None for features with no
        input file at all (text-to-image)."""
        return next((i for i in self.inputs if i.positional), None)

    @property
    def takes_urls(self) -> bool:
        return any(i.url_field for i in self.inputs)

    def param(self, key: str) -> Param:
        for p in self.params:
            if p.id == key:
                return p
        raise KeyError(key)

    def resolve_params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Validate user-supplied values and fill documented defaults.

        Unknown names are refused (a typo must not silently become "use the default").
        A parameter left unset with no documented default is left out of the body.
        """
        known = {p.id for p in self.params}
        unknown = sorted(set(given) - known)
        if unknown:
            raise InvalidInput(
                f"{self.command}: unknown parameter(s) {', '.join(unknown)}",
                hint=f"Known parameters: {', '.join(sorted(known)) or 'none'}.",
            )
        resolved: dict[str, Any] = {}
        for p in self.params:
            value = given.get(p.id)
            if value is None or value == []:
                if p.default is not None:
                    resolved[p.id] = p.default
                elif p.required and p.cli and not self.filled_later(p):
                    raise InvalidInput(
                        f"{self.command}: {p.flag} is required",
                        hint=f"{p.flag}: {p.help} ({p.describe_range()}).",
                    )
                continue
            resolved[p.id] = p.coerce(value)
        return resolved

    def filled_later(self, p: Param) -> bool:
        """A required parameter that the core or a hook can still fill in: the style
        group (looked up from the style id) and anything a prepare hook derives."""
        return bool(self.hooks.get("prepare") or self.hooks.get("job_params")) or (
            self.styles and p.name == "style_group_id"
        )

    def check_required(self, params: Mapping[str, Any]) -> None:
        """After hooks ran: every required parameter that goes in the body is there."""
        for p in self.params:
            if p.send and p.required and params.get(p.id) is None:
                rng = p.describe_range()
                raise InvalidInput(
                    f"{self.command}: {p.flag if p.cli else p.name} is required",
                    hint=f"{p.help} ({rng})." if rng else p.help,
                )

    def build_body(
        self,
        request_id: int | None,
        file_ids: Mapping[str, list[str]],
        params: Mapping[str, Any],
        urls: Mapping[str, list[str]] | None = None,
    ) -> dict:
        """The run-task request body, shaped as in the seed's request sample.

        `file_ids` and `urls` map input names to uploaded file ids and to URLs passed
        through as they are (only for inputs with a `url_field`).
        """
        return BODY_BUILDERS[self.body_style](self, request_id, file_ids, params, urls or {})


def _build_v1(feature, request_id, file_ids, params, urls) -> dict:
    payload: dict[str, Any] = {}
    if feature.file_sets:
        payload["file_sets"] = {}
    payload["actions"] = [{"id": 0}]
    if feature.action_params:
        payload["actions"][0]["params"] = {}
    for spec in feature.inputs:
        ids = file_ids.get(spec.name)
        if ids:
            payload["file_sets"][spec.field] = list(ids)
    _place_params(feature, payload, params)
    return {"request_id": request_id, "payload": payload}


def _build_vto(feature, request_id, file_ids, params, urls) -> dict:
    """Seed 002's body: the id or URL fields of each input, then `source_info` and
    `object_infos` naming the same files, with the parameters per object.

    Which inputs are the source and which the objects is declared by the input
    names: "source", "source_mask", "product", "product_mask".
    """
    body: dict[str, Any] = {}
    refs: dict[str, list[str]] = {}
    for spec in feature.inputs:
        values = []
        if file_ids.get(spec.name):
            values = list(file_ids[spec.name])
            key = spec.field
        elif urls.get(spec.name):
            values = list(urls[spec.name])
            key = spec.url_field
        if not values:
            continue
        body[key] = values if spec.as_list else values[0]
        refs[spec.name] = values
    source = refs.get("source", [None])[0]
    source_mask = refs.get("source_mask", [None])[0]
    body["source_info"] = {"name": source}
    if source_mask is not None:
        body["source_info"]["mask_name"] = source_mask
    objects = []
    masks = refs.get("product_mask", [])
    for index, name in enumerate(refs.get("product", [])):
        info: dict[str, Any] = {"name": name}
        if index < len(masks):
            info["mask_name"] = masks[index]
        objects.append(info)
    body["object_infos"] = objects
    for index in range(len(objects)):
        _place_params(feature, body, params, index=index)
    return body


def _place_params(feature: Feature, root: dict, params: Mapping[str, Any], index: int = 0):
    for p in feature.params:
        if not p.send:
            continue
        if p.id in params:
            value = params[p.id]
        elif feature.send_nulls:
            value = None
        else:
            continue
        # The object index replaces the 0 that follows the list's name in the path.
        path = tuple(index if step == 0 and i == 1 else step for i, step in enumerate(p.path))
        _set_path(root, (*path, p.name), value)


BODY_BUILDERS = {"v1": _build_v1, "vto": _build_vto}


def _set_path(root: dict, path: tuple, value: Any) -> None:
    node: Any = root
    for step, nxt in zip(path[:-1], path[1:], strict=True):
        if isinstance(node, list):
            while len(node) <= step:
                node.append({})
            node = node[step]
        else:
            node = node.setdefault(step, [] if isinstance(nxt, int) else {})
    node[path[-1]] = value


def get_path(root: Any, path: tuple) -> Any:
    """Read a value at `path`, or raise KeyError/IndexError/TypeError."""
    node = root
    for step in path:
        node = node[step]
    return node


# -- declaration builders: the inputs and options many features share ------------------

# How the help of every file input says what it takes.
PATH_URL_OR_ID = "a path, an http(s) URL, or id:<file_id>"


def photo_input(what: str, rules: MediaRules = IMAGE_4096) -> InputSpec:
    """The main input of a photo feature: positional, one task per value."""
    help = f"{what}: {PATH_URL_OR_ID}."
    return InputSpec(name="source", field="src_ids", help=help, positional=True, rules=rules)


def mask_input(field: str, white: str, rules: MediaRules) -> InputSpec:
    """A greyscale mask of the photo's exact size (003:8047, 003:11808: "white pixels
    indicate foreground and black pixels represent background"). Its size rule is
    checked before upload by the check_mask hook."""
    return InputSpec(
        name="mask",
        field=field,
        option="--mask",
        rules=rules,
        help=f"Greyscale mask of exactly the photo's size: white marks {white}, black is "
        f"kept (a PNG avoids JPEG's grey fringes); {PATH_URL_OR_ID}.",
    )


def style_params(
    style_help: str,
    *,
    group_help: str = "Style group id; left out, it is looked up from --style in the style lists.",
    required: bool = True,
    max_items: int = 1,
    metavar: str | None = None,
) -> tuple[Param, Param]:
    """The style pair of every style feature (003:1.14.5): the user gives --style; the
    core fills in its group from the free style lists (hooks.styles). Most take
    "only 1 style"; the portrait generators take up to --count."""
    return (
        Param(
            name="style_group_id",
            kind="int",
            option="--style-group",
            required=required,
            help=group_help,
        ),
        Param(
            name="style_ids",
            kind="int_list",
            option="--style",
            required=required,
            min_items=1,
            max_items=max_items,
            metavar=metavar,
            help=style_help,
        ),
    )
