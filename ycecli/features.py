"""The registry: one frozen declaration per API feature, pure data.

Everything feature-specific elsewhere is derived from these declarations: the Typer
commands and their options, input and parameter validation, the request body, the
sandbox's request checks and results, completions and man pages. Adding a feature
means adding one `Feature(...)` here (plus its tests); nothing else should need to
know its name.

Facts come from the vendor documents (../shared/seeds, condensed in
../shared/api/CATALOG.md); each declaration cites the seed lines it was built from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ycecli.errors import InvalidInput

# "< 10MB" in the seeds (003:376) does not say whether MB means 10^6 or 2^20 bytes.
# We take the smaller reading: a file the server might refuse is refused here,
# before it is uploaded, rather than after.
TEN_MB = 10_000_000
HUNDRED_MB = 100_000_000

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
class MediaRules:
    """What an input file must be before it is worth uploading."""

    content_types: tuple[str, ...] = IMAGE_CONTENT_TYPES
    max_bytes: int = TEN_MB  # strictly less than this
    max_long_side: int | None = 4096
    min_short_side: int | None = None
    max_short_side: int | None = None
    note: str = ""  # the seed's wording, shown in help

    def describe(self) -> str:
        kinds = "/".join(t.split("/")[1] for t in self.content_types)
        parts = [kinds, f"< {self.max_bytes // 1_000_000} MB"]
        if self.max_long_side:
            parts.append(f"long side <= {self.max_long_side}")
        if self.min_short_side:
            parts.append(f"short side >= {self.min_short_side}")
        if self.max_short_side:
            parts.append(f"short side <= {self.max_short_side}")
        return ", ".join(parts)


IMAGE_4096 = MediaRules(note="Input: long side <= 4096 (003:376-401)")


@dataclass(frozen=True)
class InputSpec:
    """One file input of a feature, and where its file id goes in the request."""

    name: str  # Python/CLI name: the positional argument or --option
    field: str  # key in payload.file_sets, e.g. "src_ids"
    help: str
    rules: MediaRules = IMAGE_4096
    required: bool = True
    positional: bool = True  # the main input: a positional argument, one task per value


@dataclass(frozen=True)
class Param:
    """One task parameter: its API name, type, limits and default, and where it goes."""

    name: str  # the field name in the API
    kind: str  # "int" | "float" | "str" | "bool"
    help: str
    required: bool = False
    default: Any = None  # the documented default; None means "leave it out of the body"
    choices: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    # Where the value lives, relative to `payload`. Most v1 features put parameters
    # in the single action's `params`.
    path: tuple = ("actions", 0, "params")
    option: str | None = None  # CLI flag; defaults to --name with dashes

    @property
    def flag(self) -> str:
        return self.option or "--" + self.name.replace("_", "-")

    def describe_range(self) -> str:
        if self.choices:
            return "one of " + ", ".join(str(c) for c in self.choices)
        if self.minimum is not None and self.maximum is not None:
            return f"{self.minimum}..{self.maximum}"
        if self.minimum is not None:
            return f">= {self.minimum}"
        if self.maximum is not None:
            return f"<= {self.maximum}"
        return ""

    def coerce(self, value: Any) -> Any:
        """Convert and check one value; raise InvalidInput naming the rule it broke."""
        converters = {"int": _to_int, "float": _to_float, "str": str, "bool": _to_bool}
        try:
            converted = converters[self.kind](value)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"{self.flag}: {value!r} is not a valid {self.kind}",
                hint=f"{self.flag} takes {self.describe_range() or 'a ' + self.kind}.",
            ) from None
        if self.choices and converted not in self.choices:
            raise InvalidInput(
                f"{self.flag}: {value!r} is not allowed",
                hint=f"{self.flag} must be {self.describe_range()}.",
            )
        if self.minimum is not None and converted < self.minimum:
            raise InvalidInput(
                f"{self.flag}: {value!r} is below the minimum {self.minimum}",
                hint=f"{self.flag} must be {self.describe_range()}.",
            )
        if self.maximum is not None and converted > self.maximum:
            raise InvalidInput(
                f"{self.flag}: {value!r} is above the maximum {self.maximum}",
                hint=f"{self.flag} must be {self.describe_range()}.",
            )
        return converted


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
    # True when the action carries a `params` object even if no parameter is set.
    action_params: bool = True
    examples: tuple[str, ...] = ()
    seed_lines: str = ""
    # How the sandbox derives a (clearly not AI) result from the inputs; a name
    # looked up in ycecli.sandbox.results.
    sandbox_result: str = "copy"
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
    def primary_input(self) -> InputSpec:
        return next(i for i in self.inputs if i.positional)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def resolve_params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Validate user-supplied values and fill documented defaults.

        Unknown names are refused (a typo must not silently become "use the default").
        A parameter left unset with no documented default is left out of the body.
        """
        known = {p.name for p in self.params}
        unknown = sorted(set(given) - known)
        if unknown:
            raise InvalidInput(
                f"{self.command}: unknown parameter(s) {', '.join(unknown)}",
                hint=f"Known parameters: {', '.join(sorted(known)) or 'none'}.",
            )
        resolved: dict[str, Any] = {}
        for p in self.params:
            value = given.get(p.name)
            if value is None:
                if p.default is not None:
                    resolved[p.name] = p.default
                elif p.required:
                    raise InvalidInput(
                        f"{self.command}: {p.flag} is required",
                        hint=f"{p.flag}: {p.help} ({p.describe_range()}).",
                    )
                continue
            resolved[p.name] = p.coerce(value)
        return resolved

    def build_body(
        self, request_id: int, file_ids: Mapping[str, list[str]], params: Mapping[str, Any]
    ) -> dict:
        """The run-task request body, shaped as in the seed's request sample."""
        payload: dict[str, Any] = {"file_sets": {}, "actions": [{"id": 0}]}
        if self.action_params:
            payload["actions"][0]["params"] = {}
        for spec in self.inputs:
            ids = file_ids.get(spec.name)
            if ids:
                payload["file_sets"][spec.field] = list(ids)
        for p in self.params:
            if p.name in params:
                _set_path(payload, (*p.path, p.name), params[p.name])
        return {"request_id": request_id, "payload": payload}


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
    """Read a value at `path`, or raise KeyError/IndexError."""
    node = root
    for step in path:
        node = node[step]
    return node


# ---------------------------------------------------------------------------
# The features

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

FEATURES: tuple[Feature, ...] = (ENHANCE,)

_BY_COMMAND = {f.command: f for f in FEATURES}
_BY_SLUG = {f.slug: f for f in FEATURES}


def get_feature(name: str) -> Feature:
    """Look a feature up by command name or API slug."""
    feature = _BY_COMMAND.get(name) or _BY_SLUG.get(name)
    if feature is None:
        raise InvalidInput(
            f"unknown feature {name!r}",
            hint="Known features: " + ", ".join(sorted(_BY_COMMAND)) + ".",
        )
    return feature
