"""Portrait features (003): makeup transfer, face swap (with its detection step), and
the style-based generators headshot, avatar and studio."""

from __future__ import annotations

from ycecli.features.spec import (
    IMAGE_CONTENT_TYPES,
    TEN_MB,
    Feature,
    InputSpec,
    MediaRules,
    Param,
    style_params,
)

GROUP = "Portrait and hair"

# -- AI Makeup Transfer (003:12921-13403) ---------------------------------------------

# 003:12942 "1024x1024 (long side <= 1024), single face only, need to show full face".
# Whether the engine refuses or resizes a larger image is not said (spec 2.11); a
# larger one is refused here, before anything is uploaded or charged, and the hint
# says how to fix it, rather than letting a task fail or be resized unannounced.
MAKEUP_RULES = MediaRules(
    content_types=IMAGE_CONTENT_TYPES,
    max_bytes=TEN_MB,
    max_long_side=1024,
    note="long side <= 1024, one full face (003:12942)",
)

MAKEUP_TRANSFER = Feature(
    command="makeup-transfer",
    slug="mu-transfer",
    title="AI Makeup Transfer",
    summary="Copy the makeup look of a reference photo onto a face photo.",
    group=GROUP,
    seed_lines="003:12921-13403; limits 003:12942; errors 003:12944-12961",
    inputs=(
        InputSpec(
            name="source",
            field="src_ids",
            help="Face photo to apply the makeup to (one full face): a path, an http(s) URL, "
            "or id:<file_id>.",
            rules=MAKEUP_RULES,
            positional=True,
        ),
        InputSpec(
            name="ref",
            field="ref_ids",
            option="--ref",
            help="Photo with the makeup look to copy (one full, frontal face).",
            rules=MAKEUP_RULES,
        ),
    ),
    # 003:13193: the action has no `params` at all.
    action_params=False,
    result="image",
    sandbox_result="portrait_makeup",
    error_hints={
        "error_src_no_face": "No face was found in your photo: use one with a clear, full face.",
        "error_ref_no_face": "No face was found in the --ref photo: use one with a clear, "
        "full face.",
        "error_src_face_too_small": "The face in your photo is too small: crop closer to it.",
        "error_ref_face_too_small": "The face in the --ref photo is too small: crop closer to it.",
        "error_src_large_face_angle": "Your photo needs a frontal face: look at the camera.",
        "error_ref_large_face_angle": "The --ref photo needs a frontal face.",
        "error_src_eye_closed": "The eyes are closed in your photo: use one with open eyes.",
        "error_ref_eye_closed": "The eyes are closed in the --ref photo: use one with open eyes.",
        "error_src_eye_occluded": "An eye is hidden in your photo (hair, glasses, a hand): "
        "uncover both eyes.",
        "error_ref_eye_occluded": "An eye is hidden in the --ref photo: use one with both eyes "
        "visible.",
        "error_src_lip_occluded": "The lips are hidden in your photo: uncover the mouth.",
        "error_ref_lip_occluded": "The lips are hidden in the --ref photo: use one with the mouth "
        "visible.",
        "error_inappropriate_ref_case01": "In the --ref photo hair is too close to both eyes, or "
        "too little skin shows beside the eye corners: use a photo with the eye area clear.",
        "error_inappropriate_ref_case02": "In the --ref photo one eye is crowded by hair (or too "
        "little skin shows beside its corner) and the other is not frontal: use a frontal "
        "photo with the eye area clear.",
    },
    examples=(
        "yce makeup-transfer me.jpg --ref look.jpg",
        "yce makeup-transfer a.jpg b.jpg --ref look.png -o made-up/",
        "yce --json makeup-transfer id:<dst_id> --ref id:<file_id>",
    ),
)

# -- AI Face Swap (003:13404-14088) ---------------------------------------------------

# 003:395 "4096x4096 (long side <= 4096), single face only, need to show full face",
# while the overview (003:13408) "supports swapping one or multiple faces". Both are
# allowed here: the detection step tells how many faces there are.
FACE_SWAP_RULES = MediaRules(note="long side <= 4096, full faces (003:395)")

FACE_SWAP = Feature(
    command="face-swap",
    slug="face-swap",
    title="AI Face Swap",
    summary="Put the face of a reference photo on the faces of a target photo.",
    group=GROUP,
    seed_lines="003:13404-14088 (run 003:13863); limits 003:395",
    inputs=(
        InputSpec(
            name="source",
            field="src_ids",
            help="Target photo whose face(s) are replaced: a path, an http(s) URL, or "
            "id:<file_id>.",
            rules=FACE_SWAP_RULES,
            positional=True,
        ),
        InputSpec(
            name="ref",
            field="ref_ids",
            option="--ref",
            multiple=True,
            # ref_ids is required by the API (003:13863); it is optional here only so
            # that `--detect-only` needs none. The check_job hook requires it otherwise,
            # before anything is uploaded.
            required=False,
            help="Photo of the face to put in; repeat for several faces (the first --ref is "
            "reference 0 in --map).",
            rules=FACE_SWAP_RULES,
        ),
    ),
    params=(
        Param(
            name="face_map",
            kind="str_list",
            option="--map",
            metavar="REF:FACE",
            send=False,
            help="Swap face FACE of the target (its index in the detected faces, from 0) "
            "with reference REF (the REF-th --ref, from 0), e.g. --map 0:1. Default with one "
            "face and one --ref: 0:0.",
        ),
        Param(
            name="detect_only",
            kind="bool",
            send=False,
            help="Only detect the faces of the target and write it with each face "
            "framed and numbered as --map takes them (INPUT_faces.jpg, or -o), any --ref "
            "numbered beside it; run no swap.",
        ),
        # Built by the hooks from --map and the detection result (003:13863):
        # [{"index": reference, "position": face}].
        Param(
            name="face_mapping",
            kind="object_list",
            required=True,
            cli=False,
            help="Which reference goes on which detected face.",
        ),
    ),
    hooks={
        "prepare": "face_swap_prepare",
        "check_job": "face_swap_check",
        "job_params": "face_swap_mapping",
        "before_submit": "face_swap_detect",
        "after": "face_swap_report",
    },
    result="image",
    sandbox_result="portrait_face_swap",
    sandbox_check="portrait_face_swap",
    examples=(
        "yce face-swap group.jpg --detect-only",
        "yce face-swap me.jpg --ref star.jpg",
        "yce face-swap group.jpg --ref a.jpg --ref b.jpg --map 0:1 --map 1:0",
    ),
)

# The detection step (003:13646, status 003:13748): run by face-swap's before_submit
# hook on the already uploaded target, never a command of its own. It has no upload
# endpoint of its own; its input is face-swap's upload.
FACE_SWAP_DETECT = Feature(
    command="face-swap-detect",
    slug="face-swap/pre-process",
    title="AI Face Swap face detection",
    summary="Detect the faces of a face-swap target (a step of face-swap).",
    group=GROUP,
    hidden=True,
    upload_path="/s2s/v1.1/file/face-swap",
    seed_lines="003:13646-13862",
    inputs=(
        InputSpec(
            name="source",
            field="src_ids",
            help="Target photo to detect faces in.",
            rules=FACE_SWAP_RULES,
            positional=True,
        ),
    ),
    action_params=False,  # 003:13646: the action has no `params`
    result="json",
    sandbox_result="portrait_face_detect",
    error_hints={
        "error_no_face": "No face was found in the target photo: use one with clear, "
        "frontal faces.",
    },
    examples=("yce face-swap group.jpg --detect-only",),
)

# -- Style generators: headshot, avatar, studio (003:14089-16360) --------------------


def _style_params(what: str) -> tuple[Param, ...]:
    return (
        # "The number of styles must be less than or equal to the output_count", which
        # is at most 200; the prepare hook checks it against --count.
        *style_params(
            f"Style id(s) of the {what} (see `yce styles list`); at most --count of them.",
            group_help="Style group id (default: looked up from --style).",
            max_items=200,
        ),
        Param(
            name="output_count",
            kind="int",
            option="--count",
            path=("custom",),
            required=True,
            minimum=1,
            maximum=200,
            # 003 gives no default (its sample says 20). Unset, it is the number of
            # styles: the fewest images the API allows, so no units go on images
            # nobody asked for.
            help="How many images to generate (default: one per --style).",
        ),
    )


_STYLE_HOOKS = {"prepare": "style_output_count"}

HEADSHOT = Feature(
    command="headshot",
    slug="headshot",
    title="AI Headshot Generator",
    summary="Generate professional headshots of a portrait in chosen styles.",
    group=GROUP,
    seed_lines="003:14089-14847 (run 003:14625); limits 003:14113",
    inputs=(
        InputSpec(
            name="source",
            field="src_ids",
            help="Portrait of one person, full face and both shoulders visible: a path, an "
            "http(s) URL, or id:<file_id>.",
            # 003:14113 says jpg/jpeg only although the upload enum allows png: a png is
            # refused here rather than risk a failed task. The table gives no input
            # size limit (a short side over 1024 is resized by the engine); 4096, the
            # limit of every other v1 image feature (003:376-401), is kept.
            rules=MediaRules(
                content_types=("image/jpeg",),
                max_long_side=4096,
                note="jpg/jpeg; one person, full face and both shoulders (003:14113)",
            ),
            positional=True,
        ),
    ),
    params=_style_params("headshots"),
    styles=True,
    hooks=_STYLE_HOOKS,
    sandbox_check="portrait_style_count",
    result="image",
    sandbox_result="portrait_headshot",
    error_hints={
        "error_pose": "The pose was not recognised: show one person facing the camera, with "
        "the full face and both shoulders.",
        "error_no_shoulder": "Both shoulders must be visible: use a photo framed wider.",
        "error_multiple_people": "Only one person may be in the photo: crop to one.",
    },
    examples=(
        "yce headshot me.jpg --style <style_id>",
        "yce headshot me.jpg --style <id1> --style <id2> --count 4 -o headshots/",
        "yce styles list headshot",
    ),
)

AVATAR = Feature(
    command="avatar",
    slug="ai-avatar",
    title="AI Avatar Generator",
    summary="Generate avatars from a photo in chosen styles.",
    group=GROUP,
    seed_lines="003:14848-15596 (run 003:15374); limits 003:394",
    inputs=(
        InputSpec(
            name="source",
            field="src_ids",
            help="Photo to base the avatars on: a path, an http(s) URL, or id:<file_id>.",
            rules=MediaRules(note="Input: long side <= 4096 (003:394)"),
            positional=True,
        ),
    ),
    params=_style_params("avatars"),
    styles=True,
    hooks=_STYLE_HOOKS,
    sandbox_check="portrait_style_count",
    result="image",
    sandbox_result="portrait_avatar",
    examples=(
        "yce avatar me.jpg --style <style_id>",
        "yce avatar me.jpg --style <id1>,<id2> --count 6 -o avatars/",
        "yce styles list avatar",
    ),
)

STUDIO = Feature(
    command="studio",
    slug="ai-studio",
    title="AI Studio Generator",
    summary="Generate studio portraits of a photo in chosen styles.",
    group=GROUP,
    seed_lines="003:15597-16360 (run 003:16138); limits 003:15619; errors 003:15621-15626",
    inputs=(
        InputSpec(
            name="source",
            field="src_ids",
            help="Photo with one face (the largest face is used): a path, an http(s) URL, "
            "or id:<file_id>.",
            rules=MediaRules(
                max_long_side=1920,
                min_short_side=200,
                note="short side >= 200, long side <= 1920 (003:15619)",
            ),
            positional=True,
        ),
    ),
    params=_style_params("portraits"),
    styles=True,
    hooks=_STYLE_HOOKS,
    sandbox_check="portrait_style_count",
    result="image",
    sandbox_result="portrait_studio",
    error_hints={
        "error_below_min_image_size": "The photo is too small: its short side must be at "
        "least 200 pixels.",
        "error_exceed_max_image_size": "The photo is too large: its long side must be at most "
        "1920 pixels.",
    },
    examples=(
        "yce studio me.jpg --style <style_id>",
        "yce studio a.jpg b.jpg --style <id> --count 3 -o studio/",
        "yce styles list studio",
    ),
)

FEATURES: tuple[Feature, ...] = (
    MAKEUP_TRANSFER,
    FACE_SWAP,
    FACE_SWAP_DETECT,
    HEADSHOT,
    AVATAR,
    STUDIO,
)
