"""Style lists: the sandbox catalog pages like the API, and big ids survive intact.

The sandbox's HTTP routes for styles are not wired yet, so the library is driven
through a stand-in client that hands each request to the catalog as the server would
(a parsed query in, a JSON text out).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode

import pytest

from ycecli.errors import InvalidInput
from ycecli.sandbox.styles import (
    CATALOG,
    STYLE_SLUGS,
    StyleCatalog,
    StyleQueryError,
    known_style,
    style_group_of,
)
from ycecli.styles import iter_pages, list_by_category, list_groups, list_styles

DOCUMENTED_STYLE_SLUGS = {
    # 003 part 1, 1.14.5
    "hair-style",
    "hair-ext",
    "hair-bang",
    "hair-vol",
    "hair-curl",
    "cloth",
    "fabric",
    # 003 part 2, 1.6
    "text-to-image",
    "headshot",
    "ai-avatar",
    "ai-studio",
    "image-to-video",
    "video-trans",
}


def wire(reply: dict) -> dict:
    """What a client sees after the reply crosses HTTP as JSON."""
    return json.loads(json.dumps(reply))


def every_id(slug: str, catalog: StyleCatalog = CATALOG) -> list[int]:
    feature = catalog.feature(slug)
    ids = [group.id for group in feature.groups]
    ids += [style.id for group in feature.groups for style in group.styles]
    return ids + list(feature.all_categories())


class CatalogClient:
    """Stands in for ycecli.client.Client, routing to the catalog as the server will."""

    def __init__(self, catalog: StyleCatalog = CATALOG) -> None:
        self.catalog = catalog
        self.requests: list[tuple[str, str]] = []

    def call(self, method, path, *, params=None, generation="v1", **_):
        assert method == "GET" and generation == "v1"
        query_string = urlencode(params or {})
        self.requests.append((path, query_string))
        query = parse_qs(query_string, keep_blank_values=True)
        for prefix, handler in (
            ("/s2s/v1.0/task/style-group/", self.catalog.groups),
            ("/s2s/v1.0/task/style/", self.catalog.styles),
            ("/s2s/v1.1/task/style/", self.catalog.by_category),
        ):
            if path.startswith(prefix):
                return json.loads(json.dumps(handler(path[len(prefix) :], query)))
        raise AssertionError(f"unexpected path {path}")


# -- the catalog --------------------------------------------------------------------------


def test_the_catalog_covers_exactly_the_documented_style_features():
    assert set(STYLE_SLUGS) == DOCUMENTED_STYLE_SLUGS


@pytest.mark.parametrize("slug", STYLE_SLUGS)
def test_ids_are_big_distinct_and_beyond_what_a_float_holds(slug):
    ids = every_id(slug)
    assert len(ids) == len(set(ids))
    for value in ids:
        assert type(value) is int and value > 2**53
        assert int(float(value)) != value  # a float round trip would change it
    feature = CATALOG.feature(slug)
    assert 2 <= len(feature.groups) <= 3
    assert sum(len(group.styles) for group in feature.groups) >= 25
    assert max(len(group.styles) for group in feature.groups) > 20


def test_ids_are_distinct_across_features_and_the_same_in_every_build():
    all_ids = [value for slug in STYLE_SLUGS for value in every_id(slug)]
    assert len(all_ids) == len(set(all_ids))
    rebuilt = StyleCatalog()
    assert [every_id(slug, rebuilt) for slug in STYLE_SLUGS] == [
        every_id(slug) for slug in STYLE_SLUGS
    ]


def test_the_replies_have_the_documented_shapes():
    groups = CATALOG.groups("hair-style", {"page_size": ["1"]})
    assert groups["status"] == 200
    assert set(groups["result"]) == {"next_token", "groups"}
    group = groups["result"]["groups"][0]
    assert set(group) == {"id", "info"} and set(group["info"]) == {"title"}
    assert group["info"]["title"] == "Female"
    # 003's samples give next_token as a JSON number, not a string.
    assert isinstance(groups["result"]["next_token"], int)

    styles = CATALOG.styles("hair-style", {"style_group_id": [str(group["id"])]})
    style = styles["result"]["styles"][0]
    assert set(style) == {"id", "info"} and set(style["info"]) == {"title", "thumb"}
    assert style["info"]["title"] == "Long Wave"
    assert style["info"]["thumb"].startswith("https://example.com/")

    top = CATALOG.by_category("hair-style", {})
    assert set(top) == {"status", "results"}  # `results`, not `result`
    for category in top["results"]:
        assert set(category) == {"id", "name", "styles", "sub_categories"}


def page_through(fetch_page, key: str, page_size: int) -> list[dict]:
    items, token, pages = [], None, 0
    while True:
        query = {"page_size": [str(page_size)]}
        if token is not None:
            query["starting_token"] = [str(token)]
        result = wire(fetch_page(query))["result"]
        items += result[key]
        pages += 1
        assert len(result[key]) <= page_size
        token = result["next_token"]
        if token is None:
            return items
        assert pages < 100


@pytest.mark.parametrize("page_size", [1, 3, 7, 20])
def test_paging_through_every_style_has_no_duplicates_or_gaps(page_size):
    for slug in STYLE_SLUGS:
        feature = CATALOG.feature(slug)
        groups = page_through(lambda q, s=slug: CATALOG.groups(s, q), "groups", page_size)
        assert [g["id"] for g in groups] == [g.id for g in feature.groups]
        for group in groups:
            styles = page_through(
                lambda q, s=slug, g=group: CATALOG.styles(
                    s, {**q, "style_group_id": [str(g["id"])]}
                ),
                "styles",
                page_size,
            )
            expected = next(g for g in feature.groups if g.id == group["id"]).styles
            assert [s["id"] for s in styles] == [s.id for s in expected]


def test_the_default_page_size_is_20_and_the_last_page_has_a_null_token():
    group = CATALOG.feature("cloth").groups[0]
    first = wire(CATALOG.styles("cloth", {"style_group_id": [str(group.id)]}))["result"]
    assert len(first["styles"]) == 20 and first["next_token"] is not None
    second = wire(
        CATALOG.styles(
            "cloth",
            {"style_group_id": [str(group.id)], "starting_token": [str(first["next_token"])]},
        )
    )["result"]
    assert len(second["styles"]) == len(group.styles) - 20
    assert second["next_token"] is None


@pytest.mark.parametrize("first_page", [{}, {"starting_token": [""]}, {"starting_token": ["null"]}])
def test_a_missing_or_null_token_means_the_first_page(first_page):
    reply = CATALOG.groups("fabric", {"page_size": ["1"], **first_page})
    assert reply["result"]["groups"][0]["id"] == CATALOG.feature("fabric").groups[0].id


def test_by_category_has_a_single_layer_and_a_multi_layer_category():
    top = wire(CATALOG.by_category("headshot", {}))["results"]
    single = [c for c in top if c["styles"] and not c["sub_categories"]]
    multi = [c for c in top if c["sub_categories"] and not c["styles"]]
    assert len(single) == 1 and len(multi) == 1
    # The single layer mixes groups, as the v1.1 style objects allow.
    assert len({s["style_group_id"] for s in single[0]["styles"]}) > 1

    sub_ids = [sub["id"] for sub in multi[0]["sub_categories"]]
    opened = wire(CATALOG.by_category("headshot", {"category_id": [str(i) for i in sub_ids]}))
    assert [c["id"] for c in opened["results"]] == sub_ids
    listed = [s for c in opened["results"] for s in c["styles"]]
    assert len(listed) == sum(len(g.styles) for g in CATALOG.feature("headshot").groups)
    for style in listed + single[0]["styles"]:
        assert known_style("headshot", style["style_id"])
        assert style_group_of("headshot", style["style_id"]) == style["style_group_id"]


def test_style_lookups_for_run_bodies():
    group = CATALOG.feature("hair-bang").groups[1]
    style = group.styles[0]
    assert known_style("hair-bang", style.id)
    assert style_group_of("hair-bang", style.id) == group.id
    assert not known_style("hair-style", style.id)  # another feature's style
    assert not known_style("hair-bang", float(style.id))  # what a lossy JSON layer sends
    assert not known_style("hair-bang", str(style.id))
    assert style_group_of("hair-bang", 22205685004925400) is None  # the doc's sample id
    assert style_group_of("no-such-feature", style.id) is None


# -- the catalog refuses what a strict API refuses ----------------------------------------

GROUP = CATALOG.feature("hair-style").groups[0]


@pytest.mark.parametrize(
    "call, query, message",
    [
        ("groups", {"page_size": ["0"]}, "page_size must be between 1 and 20"),
        ("groups", {"page_size": ["21"]}, "page_size must be between 1 and 20"),
        ("groups", {"page_size": ["ten"]}, "page_size must be an integer"),
        ("groups", {"page_size": ["20", "5"]}, "page_size is given 2 times"),
        ("groups", {"starting_token": ["12345"]}, "invalid starting_token"),
        ("groups", {"starting_token": ["1.8e16"]}, "starting_token must be an integer"),
        ("groups", {"pagesize": ["5"]}, "unknown parameter(s): pagesize"),
        ("styles", {}, "style_group_id is required"),
        ("styles", {"style_group_id": [""]}, "style_group_id is required"),
        ("styles", {"style_group_id": ["18213963761051864"]}, "unknown style_group_id"),
        ("styles", {"style_group_id": [f"{float(GROUP.id):.1f}"]}, "must be an integer"),
        ("by_category", {"category_id": ["1"] * 6}, "at most 5 values, got 6"),
        ("by_category", {"category_id": ["1,2"]}, "category_id must be an integer"),
        ("by_category", {"category_id": ["7"]}, "unknown category_id 7"),
    ],
)
def test_invalid_queries_are_refused(call, query, message):
    with pytest.raises(StyleQueryError) as caught:
        getattr(CATALOG, call)("hair-style", query)
    assert message in caught.value.message
    assert caught.value.status == 400 and caught.value.error_code == "InvalidParameters"


def test_a_token_is_refused_by_another_list_and_after_a_float_round_trip():
    other = CATALOG.feature("hair-style").groups[1]
    first = CATALOG.styles("hair-style", {"style_group_id": [str(GROUP.id)], "page_size": ["5"]})
    token = first["result"]["next_token"]
    for query in (
        {"style_group_id": [str(other.id)], "starting_token": [str(token)]},
        {"style_group_id": [str(GROUP.id)], "starting_token": [str(int(float(token)))]},
    ):
        with pytest.raises(StyleQueryError, match="invalid starting_token"):
            CATALOG.styles("hair-style", query)


def test_an_unknown_feature_has_no_style_lists():
    with pytest.raises(StyleQueryError, match="enhance has no style lists"):
        CATALOG.groups("enhance", {})


# -- the library ----------------------------------------------------------------------------


def test_library_pages_through_everything_and_ids_stay_exact_ints():
    client = CatalogClient()
    groups = list(
        iter_pages(lambda token: list_groups(client, "video-trans", starting_token=token), "groups")
    )
    expected_groups = CATALOG.feature("video-trans").groups
    assert [g["id"] for g in groups] == [g.id for g in expected_groups]
    seen = []
    for group in groups:
        seen += iter_pages(
            lambda token, g=group["id"]: list_styles(
                client, "video-trans", g, page_size=4, starting_token=token
            ),
            "styles",
        )
    assert [s["id"] for s in seen] == [s.id for g in expected_groups for s in g.styles]
    assert all(type(s["id"]) is int for s in seen)
    # The token went back as the exact digits of the JSON number.
    tokens = [parse_qs(q).get("starting_token") for _, q in client.requests]
    assert all(int(t[0]) > 2**53 for t in tokens if t)


def test_list_styles_sends_the_group_and_page_size():
    client = CatalogClient()
    page = list_styles(client, "hair-style", GROUP.id, page_size=2)
    assert [s["id"] for s in page["styles"]] == [s.id for s in GROUP.styles[:2]]
    path, query = client.requests[0]
    assert path == "/s2s/v1.0/task/style/hair-style"
    assert parse_qs(query) == {"style_group_id": [str(GROUP.id)], "page_size": ["2"]}
    # Digits from the command line are as good as an int.
    assert list_styles(client, "hair-style", str(GROUP.id), page_size=2) == page


def test_list_by_category_sends_repeated_keys_and_reads_results():
    client = CatalogClient()
    top = list_by_category(client, "cloth")
    assert client.requests[-1] == ("/s2s/v1.1/task/style/cloth", "")
    multi = next(c for c in top if c["sub_categories"])
    ids = [sub["id"] for sub in multi["sub_categories"]]
    opened = list_by_category(client, "cloth", ids)
    assert client.requests[-1][1] == "&".join(f"category_id={i}" for i in ids)
    assert [c["id"] for c in opened] == ids


def test_the_path_keeps_a_slug_with_a_slash():
    class Recorder:
        def call(self, method, path, **kwargs):
            self.path = path
            return {"status": 200, "result": {"next_token": None, "groups": []}}

    recorder = Recorder()
    assert list_groups(recorder, "sod/change-background") == {"groups": [], "next_token": None}
    assert recorder.path == "/s2s/v1.0/task/style-group/sod/change-background"


@pytest.mark.parametrize(
    "call",
    [
        lambda c: list_groups(c, "hair-style", page_size=0),
        lambda c: list_groups(c, "hair-style", page_size=21),
        lambda c: list_groups(c, "hair-style", starting_token=1.3045969587275114e16),
        lambda c: list_styles(c, "hair-style", 1.8213963761051864e16),
        lambda c: list_styles(c, "hair-style", True),
        lambda c: list_by_category(c, "hair-style", range(6)),
        lambda c: list_groups(c, "hair-style?x=1"),
        lambda c: list_groups(c, "../client/credit"),
    ],
)
def test_the_library_refuses_bad_arguments_before_sending(call):
    client = CatalogClient()
    with pytest.raises(InvalidInput):
        call(client)
    assert client.requests == []


def test_the_token_goes_back_exactly_as_given():
    client = CatalogClient()
    list_groups(client, "hair-style", starting_token="null")
    list_groups(client, "hair-style", starting_token=None)
    assert [
        parse_qs(q, keep_blank_values=True).get("starting_token") for _, q in client.requests
    ] == [
        ["null"],
        None,
    ]


# -- iter_pages ------------------------------------------------------------------------------


def test_iter_pages_stops_when_the_server_repeats_a_token():
    calls = []

    def fetch(token):
        calls.append(token)
        return {"items": [len(calls)], "next_token": 13045969587275115}

    assert list(iter_pages(fetch, "items")) == [1, 2]
    assert calls == [None, 13045969587275115]


def test_iter_pages_stops_on_a_cycle_and_treats_int_and_str_tokens_alike():
    pages = {None: ("a", 1), "1": ("b", "2"), "2": ("c", "1")}

    def fetch(token):
        item, next_token = pages[None if token is None else str(token)]
        return {"items": [item], "next_token": next_token}

    assert list(iter_pages(fetch, "items")) == ["a", "b", "c"]


@pytest.mark.parametrize("last", [{"next_token": None}, {"next_token": ""}, {}])
def test_iter_pages_stops_at_the_last_page(last):
    def fetch(token):
        if token is None:
            return {"items": [1, 2], "next_token": 18213963761051865}
        assert token == 18213963761051865  # passed on untouched
        return {"items": [3], **last}

    assert list(iter_pages(fetch, "items")) == [1, 2, 3]
