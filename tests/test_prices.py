"""What a run costs in units: prices learned from the account's unit history (003:665),
shown by --dry-run (offline, from the cache) and by a batch's summary."""

from __future__ import annotations

import json

import pytest

from tests.conftest import fast_config, make_image, run_cli, sandbox_clock
from ycecli.config import Paths, Profile
from ycecli.prices import PriceBook, PriceStore, charge_of, feature_of, learn
from ycecli.sandbox.server import Sandbox

HISTORY = "/s2s/v1.0/client/credit/history"


@pytest.fixture
def priced(monkeypatch, virtual_clock):
    """A sandbox whose enhance costs 3 units (not 1, so units never read as a count)."""
    config = fast_config(unit_prices={"enhance": 3})
    with Sandbox(config=config, clock=sandbox_clock(virtual_clock)) as sb:
        for key, value in sb.env().items():
            monkeypatch.setenv(key, value)
        yield sb


def history_requests(sandbox) -> int:
    return sum(1 for _, path in sandbox.requests if path == HISTORY)


def plan_of(result) -> dict:
    [plan] = [line for line in result.json_lines() if line["kind"] == "plan"]
    return plan


def test_units_history_learns_the_price_and_dry_run_then_shows_it(priced, tmp_path):
    a = make_image(tmp_path / "a.jpg")
    b = make_image(tmp_path / "b.jpg", size=(60, 40))
    before = run_cli("enhance", str(a), str(b), "--dry-run", "-o", "plan/")
    assert before.code == 0, before.stderr
    assert "dry run: units unknown (no enhance charge seen yet" in before.stderr
    assert "`yce units history` learns it" in before.stderr

    assert run_cli("enhance", str(a)).code == 0  # one input: no summary, no history read
    assert history_requests(priced) == 0
    history = run_cli("units", "history")
    assert history.code == 0, history.stderr
    assert "-3  api_photo_enhance" in history.stdout
    assert "units per task, learned from these charges: enhance 3" in history.stderr

    sent = len(priced.requests)
    shown = run_cli("enhance", str(a), str(b), "--dry-run", "-o", "plan/")
    assert shown.code == 0, shown.stderr
    assert "dry run: 3 units per task, 6 in all (the latest enhance charge" in shown.stderr
    plan = plan_of(run_cli("--json", "enhance", str(a), str(b), "--dry-run", "-o", "plan/"))
    assert (plan["units_per_task"], plan["units"]) == (3, 6)
    assert plan["units_source"].startswith("the latest enhance charge in the unit history")
    assert len(priced.requests) == sent  # a dry run sends nothing, prices included


def test_offline_dry_run_uses_the_cache_or_says_unknown(tmp_path, monkeypatch, virtual_clock):
    photo = make_image(tmp_path / "photo.jpg")
    config = fast_config(unit_prices={"enhance": 3})
    with Sandbox(config=config, clock=sandbox_clock(virtual_clock)) as sandbox:
        env = sandbox.env()
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        empty = run_cli("--json", "enhance", str(photo), "--dry-run", "-o", "plan/")
        assert run_cli("enhance", str(photo)).code == 0
        assert run_cli("--json", "units", "history").code == 0
    # The server is gone: the same account's dry run still knows the price...
    offline = run_cli("enhance", str(photo), "--dry-run", "-o", "plan/")
    assert offline.code == 0, offline.stderr
    assert "dry run: 3 units per task, 3 in all" in offline.stderr
    # ...and with an empty cache it says unknown, as it did before anything was learned.
    assert plan_of(empty)["units"] is None and plan_of(empty)["units_per_task"] is None
    other = run_cli(
        "enhance", str(photo), "--dry-run", "-o", "plan/", env={"XDG_CACHE_HOME": str(tmp_path)}
    )
    assert other.code == 0, other.stderr
    assert "dry run: units unknown (no enhance charge seen yet" in other.stderr
    # No account at all: still a plan, with units unknown.
    for key in env:
        monkeypatch.delenv(key)
    bare = run_cli("enhance", str(photo), "--dry-run", "-o", "plan/")
    assert bare.code == 0 and "dry run: units unknown (no v1 account to look up)" in bare.stderr


def test_v2_try_on_prices_are_unknown(sandbox_env, tmp_path):
    hand = make_image(tmp_path / "hand.jpg")
    ring = make_image(tmp_path / "ring.png", fmt="PNG")
    result = run_cli("ring-vto", str(hand), str(ring), "--dry-run", "-o", "plan/")
    assert result.code == 0, result.stderr
    assert "units unknown (the v2 API documents no unit history" in result.stderr


def test_the_batch_summary_shows_the_cost_with_one_history_request_a_day(priced, tmp_path):
    inputs = [str(make_image(tmp_path / f"p{i}.jpg", size=(40 + i, 40))) for i in range(3)]
    first = run_cli("--json", "enhance", *inputs, "-o", "out/")
    assert first.code == 0, first.stderr
    # Nothing cached yet: the run read one page of history after its tasks, to learn.
    assert "3 task(s) charged at most, costing 9 units (3 each)" in first.stderr
    assert history_requests(priced) == 1
    assert [line["units"] for line in first.json_lines()] == [None] * 3  # unknown then

    again = run_cli("--json", "enhance", *inputs, "-o", "out/", "--force", "--overwrite")
    assert again.code == 0, again.stderr
    assert "3 task(s) charged at most, costing 9 units (3 each)" in again.stderr
    assert [line["units"] for line in again.json_lines()] == [3, 3, 3]
    assert history_requests(priced) == 1  # read less than a day ago: not again

    skipped = run_cli("--json", "enhance", *inputs, "-o", "out/")
    assert "0 task(s) charged at most, costing 0 units" in skipped.stderr
    assert [line["units"] for line in skipped.json_lines()] == [0, 0, 0]


def test_a_summary_says_unknown_when_no_price_is_known(priced, tmp_path):
    inputs = [str(make_image(tmp_path / f"p{i}.png", fmt="PNG")) for i in range(2)]
    # The history was read today, before any bg-remove charge: no refresh, no price.
    assert run_cli("units", "history").code == 0
    result = run_cli("bg-remove", *inputs, "-o", "out/")
    assert result.code == 0, result.stderr
    assert "2 task(s) charged at most, units unknown (no bg-remove charge seen yet" in (
        result.stderr
    )
    assert history_requests(priced) == 1
    learned = run_cli("units", "history")
    assert "bg-remove 1" in learned.stderr and "api_background_removal" in learned.stdout


# -- learning, on 003's own shapes -------------------------------------------------------


def entry(action, amounts, ms, target="T"):
    return {
        "id": ms,
        "timestamp": ms,
        "action": action,
        "target_id": target,
        "info": {"credits": [{"id": 1, "amount": a} for a in amounts]},
    }


def test_003s_sample_entry_is_a_charge_of_two_units_for_enhance():
    sample = json.loads(
        '{"id":38173479337460984,"timestamp":1703146067000,"action":"photo_enhance",'
        '"target_id":"7TWFkuE2Z9uR0NOxSmQ1rh4PJ5Zx7YJ5U9SAz51q0QHVwMP+Jb1XbjPsf7ZgUgLY",'
        '"info":{"credits":[{"id":24409059381740548,"amount":-2},'
        '{"id":27297116883780870,"amount":0}],'
        '"dst_actions":"[ \\"hd_wrinkle\\", \\"hd_pore\\", \\"hd_texture\\" ]"}}'
    )
    assert charge_of(sample) == 2
    assert feature_of(sample) == "enhance"


def test_the_latest_charge_sets_the_price_and_top_ups_teach_nothing():
    book = PriceBook(api_base="http://x")
    taught = learn(
        book,
        [
            entry("api_photo_enhance", [-4], 3_000),  # newest first, as the API lists
            entry("subscription_credits", [+100], 2_500),
            entry("api_photo_enhance", [-2], 2_000),
            entry("api_photo_enhance", [-2], 1_000),
            entry("api_hair_color", [-5], 900),  # outside 003's enum: named by its slug
            entry("wig", [-7], 800),  # in the enum, but which feature it is 003 won't say
            entry("expire", [-3], 700),
        ],
        now=10.0,
    )
    assert taught == {"enhance": 4, "hair-color": 5}
    assert {k: p.units for k, p in book.prices.items()} == {"enhance": 4, "hair-color": 5}
    # An older page learned later does not undo a newer price.
    learn(book, [entry("api_photo_enhance", [-1], 500)])
    assert book.prices["enhance"].units == 4


def test_the_journal_names_the_feature_the_action_does_not(sandbox_env, tmp_path, paths):
    photo = make_image(tmp_path / "photo.jpg")
    done = run_cli("--json", "color-correct", str(photo))
    assert done.code == 0, done.stderr
    [task] = done.json_lines()
    from ycecli.api import Yce

    with Yce(Profile(**_sandbox_profile(sandbox_env)), paths=paths) as yce:
        # 003 has no action for color correction; suppose the API called it "colorize".
        taught = learn(PriceBook("x"), [entry("colorize", [-6], 1, task["task_id"])], yce.journal)
    assert taught == {"color-correct": 6}


def _sandbox_profile(sandbox) -> dict:
    env = sandbox.env()
    return {
        "client_id": env["YCE_CLIENT_ID"],
        "client_secret": env["YCE_CLIENT_SECRET"],
        "api_base": env["YCE_API_BASE"],
    }


def test_the_cache_is_private_and_per_account(tmp_path):
    paths = Paths(tmp_path / "c.yaml", tmp_path / "cache", tmp_path / "state")
    one = Profile(client_id="a", client_secret="s", api_base="http://one")
    two = Profile(client_id="b", client_secret="s", api_base="http://one")
    store = PriceStore(paths)
    book = store.load(one)
    learn(book, [entry("api_photo_enhance", [-2], 1)])
    store.save(one, book)
    assert store.load(one).prices["enhance"].units == 2
    assert store.load(two).prices == {}
    assert store.path(one).stat().st_mode & 0o777 == 0o600
    assert b"client" not in store.path(one).read_bytes()


def test_a_skin_analysis_charge_lists_its_dst_actions_as_003_documents(sandbox_env, tmp_path):
    face = make_image(tmp_path / "face.jpg", size=(1080, 1080))
    assert run_cli("skin-analysis", str(face), "--preset", "hd-7").code == 0
    [charge] = run_cli("--json", "units", "history").json_lines()
    assert charge["action"] == "api_skin_analysis"
    assert len(charge["info"]["dst_actions"]) == 7
    assert all(name.startswith("hd_") for name in charge["info"]["dst_actions"])
