"""`[[stores]]`: several stores in one configuration, tokens from the environment or secrets
files, destinations per store, and one-line errors naming the bad setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from b2bsync.bigcommerce import GovernorRegistry
from b2bsync.bigcommerce._governor import Family
from b2bsync.bigcommerce._rate_budget import RateBudget
from b2bsync.config import ConfigError, load_settings
from b2bsync.domain.order_type import OrderType
from b2bsync.store import Database
from b2bsync.sync.fleet import Fleet

DESTINATIONS = """
[[destinations]]
name = "erp"
type = "jsonl"
path = "erp.jsonl"

[[destinations]]
name = "audit"
type = "jsonl"
path = "audit.jsonl"
"""


PER_STORE = """
[[writeback]]
order_type = "online_order"

[[stores]]
hash = "alpha"
access_token = "a"
channels = [1, 2]
plan = "pro"
rate_budget = "100/30s"

[[stores.writeback]]
order_type = "invoice_payment"
status_id = 10

[[stores]]
hash = "beta"
access_token = "b"
plan = "standard"
writeback = []

[[stores]]
hash = "gamma"
access_token = "c"
"""
"""Three stores: one with its own channels, budget (below its plan) and write-back rules, one
on a plan without write-back, one with nothing of its own."""


def _config(tmp_path: Path, stores: str) -> Path:
    path = tmp_path / "b2bsync.toml"
    path.write_text(DESTINATIONS + stores, encoding="utf-8")
    return path


def test_stores_take_tokens_from_the_environment_and_secret_files(tmp_path: Path) -> None:
    secret = tmp_path / "beta.token"
    secret.write_text("beta-token\n", encoding="utf-8")
    path = _config(
        tmp_path,
        f"""
[[stores]]
hash = "alpha"
access_token = "${{ALPHA_TOKEN}}"

[[stores]]
hash = "beta"
access_token_file = "{secret}"
destinations = ["audit"]
api_url = "http://127.0.0.1:9"
""",
    )
    # The environment's single-store settings never leak into a [[stores]] entry.
    env = {"ALPHA_TOKEN": "alpha-token", "B2B_ACCESS_TOKEN": "someone-elses"}
    settings = load_settings(path, environ=env)
    alpha, beta = settings.store_entries()
    assert (alpha.store_hash, beta.store_hash) == ("alpha", "beta")
    assert alpha.connection.access_token.get_secret_value() == "alpha-token"
    assert alpha.connection.b2b_token.get_secret_value() == "alpha-token"
    assert beta.connection.access_token.get_secret_value() == "beta-token"
    assert beta.connection.api_url == "http://127.0.0.1:9"
    assert alpha.destinations is None
    assert beta.destinations == ("audit",)
    assert settings.store_configured
    assert "beta-token" not in repr(beta)


def test_a_store_has_its_own_channels_rate_budget_and_writeback_rules(tmp_path: Path) -> None:
    path = _config(tmp_path, PER_STORE)
    alpha, beta, gamma = load_settings(path, environ={}).store_entries()
    assert alpha.channels == frozenset({1, 2})
    assert alpha.rate_budget == RateBudget(100, 30.0)
    assert alpha.writeback is not None
    assert [(r.order_type, r.status_id) for r in alpha.writeback] == [
        (OrderType.INVOICE_PAYMENT, 10)
    ]
    # The plan's quota is the budget when no explicit one is given; `writeback = []`: none.
    assert (beta.channels, beta.rate_budget, beta.writeback) == (None, RateBudget(150, 30.0), ())
    # Nothing set: every channel, the server's quota, the global [[writeback]] rules.
    assert (gamma.channels, gamma.rate_budget, gamma.writeback) == (None, None, None)


def test_without_stores_the_single_store_is_the_only_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIGCOMMERCE_STORE_HASH", "solo")
    monkeypatch.setenv("BIGCOMMERCE_ACCESS_TOKEN", "solo-token")
    (entry,) = load_settings(environ={}).store_entries()
    assert entry.store_hash == "solo"
    assert entry.destinations is None


@pytest.mark.parametrize(
    ("stores", "message"),
    [
        ('[[stores]]\naccess_token = "t"\n', "stores[0].hash is not set"),
        ('[[stores]]\nhash = "a"\n', "stores[0].access_token is not set"),
        ('[[stores]]\nhash = "a b"\naccess_token = "t"\n', "stores[0].hash is malformed"),
        ('[[stores]]\nhash = "a"\naccess_token = "t"\ncolor = "x"\n', "stores[0].color is not a"),
        (
            '[[stores]]\nhash = "a"\naccess_token = "t"\nplan = "gold"\n',
            "stores[0].plan must be one of standard, plus, pro, enterprise",
        ),
        (
            '[[stores]]\nhash = "a"\naccess_token = "t"\nrate_budget = "lots"\n',
            'stores[0].rate_budget must be requests per window such as "100/30s"',
        ),
        (
            '[[stores]]\nhash = "a"\naccess_token = "t"\nrate_budget = "0/30s"\n',
            "stores[0].rate_budget must be requests per window",
        ),
        (
            '[[stores]]\nhash = "a"\naccess_token = "t"\nplan = "standard"\n'
            'rate_budget = "200/30s"\n',
            "stores[0].rate_budget 200/30s is more than the standard plan's 150/30s",
        ),
        (
            '[[stores]]\nhash = "a"\naccess_token = "t"\nchannels = [1, "two"]\n',
            "stores[0].channels must be a non-empty list of channel ids",
        ),
        (
            '[[stores]]\nhash = "a"\naccess_token = "t"\n'
            '[[stores.writeback]]\norder_type = "refund"\n',
            "stores[0].writeback ([[stores.writeback]]): rule 1, order_type",
        ),
        ('[[stores]]\nhash = "a"\naccess_token = "${NOPE}"\n', "refers to ${NOPE}"),
        (
            '[[stores]]\nhash = "a"\naccess_token = "t"\ndestinations = ["erp", "crm"]\n',
            "stores[0].destinations names 'crm', which is not a destination",
        ),
        (
            '[[stores]]\nhash = "a"\naccess_token = "t"\n[[stores]]\nhash = "a"\n'
            'access_token = "u"\n',
            "stores[1].hash 'a' is listed twice",
        ),
        (
            '[[stores]]\nhash = "a"\naccess_token_file = "/nonexistent/token"\n',
            "stores[0].access_token_file: cannot read /nonexistent/token",
        ),
        ("stores = 3\n", "stores must be a non-empty array of tables"),
    ],
)
def test_a_bad_store_setting_is_named_in_one_line(
    tmp_path: Path, stores: str, message: str
) -> None:
    path = _config(tmp_path, "") if stores.startswith("stores =") else _config(tmp_path, stores)
    if stores.startswith("stores ="):
        path.write_text(stores + DESTINATIONS, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(path, environ={})
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_stores_beside_a_bigcommerce_table_is_a_one_line_error(tmp_path: Path) -> None:
    path = _config(tmp_path, '[bigcommerce]\nstore_hash = "solo"\n' + PER_STORE)
    with pytest.raises(ConfigError) as raised:
        load_settings(path, environ={})
    assert str(raised.value) == (
        f"{path}: [bigcommerce] and [[stores]] cannot be used together; "
        "move the store into a [[stores]] entry"
    )


def test_a_store_hash_in_the_environment_beside_stores_is_warned_about_once(
    tmp_path: Path,
) -> None:
    path = _config(tmp_path, PER_STORE)
    env = {"BIGCOMMERCE_STORE_HASH": "solo", "STORE_HASH": "solo"}
    with capture_logs() as logs:
        settings = load_settings(path, environ=env)
    assert [store.store_hash for store in settings.store_entries()] == ["alpha", "beta", "gamma"]
    assert logs == [
        {
            "event": "config.environment_ignored",
            "log_level": "warning",
            "variable": "BIGCOMMERCE_STORE_HASH",
            "reason": "[[stores]] names the stores; the variable is not used",
        }
    ]
    with capture_logs() as quiet:
        load_settings(path, environ={})
    assert quiet == []


def test_single_store_commands_use_the_first_store(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        '[[stores]]\nhash = "first"\naccess_token = "t1"\n'
        '[[stores]]\nhash = "second"\naccess_token = "t2"\n',
    )
    assert load_settings(path, environ={}).bigcommerce().store_hash == "first"


async def test_each_store_context_gets_its_own_rules_channels_and_budget(tmp_path: Path) -> None:
    settings = load_settings(_config(tmp_path, PER_STORE), environ={})
    fleet = Fleet(
        db=Database(f"sqlite:///{tmp_path}/unused.db"),
        destinations=(),
        stores={entry.store_hash: entry for entry in settings.store_entries()},
        writeback_rules=settings.writeback_rules,
    )
    seen = {}
    for store in fleet.store_hashes:
        registry = GovernorRegistry()
        async with fleet.context(store, governors=registry) as ctx:
            budgets = {g.family: g.budget for g in registry.governors()}
            rules = [rule.order_type for rule in ctx.writeback_rules]
            seen[store] = (rules, ctx.channels, budgets[Family.STORE], budgets[Family.B2B])
    assert seen == {
        "alpha": ([OrderType.INVOICE_PAYMENT], frozenset({1, 2}), RateBudget(100, 30.0), None),
        "beta": ([], None, RateBudget(150, 30.0), None),
        "gamma": ([OrderType.ONLINE_ORDER], None, None, None),
    }
