"""`b2bsync api get` against the sandbox: single GETs, `--all` paging per family, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog
from typer.testing import CliRunner

from b2bsync.cli import app
from tests.corrupting_proxy import CORRUPTIONS, run_corrupting_proxy
from tests.sandbox_server import RunningSandbox


@pytest.fixture
def env(
    sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> dict[str, str]:
    for name in ("STORE_HASH", "ACCESS_TOKEN", "B2B_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return {
        "BIGCOMMERCE_STORE_HASH": sandbox.config.store_hash,
        "BIGCOMMERCE_ACCESS_TOKEN": sandbox.config.token,
        "BIGCOMMERCE_API_URL": sandbox.base_url,
        "B2B_API_URL": sandbox.base_url + "/b2b",
    }


@pytest.fixture(autouse=True)
def default_logging() -> Iterator[None]:
    """The command configures structlog for the process; leave it as other tests expect."""
    yield
    structlog.reset_defaults()


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Exit code and stdout; on failure stdout is replaced by stderr (the error line)."""
    result = CliRunner().invoke(app, ["api", "get", *args], env=env)
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


def test_single_get_prints_the_answer(env: dict[str, str], sandbox: RunningSandbox) -> None:
    code, output = run(env, "/companies", "--b2b", "--param", "limit=2")
    assert code == 0, output
    body = json.loads(output)
    assert len(body["data"]) == 2
    assert body["meta"]["pagination"]["totalCount"] == len(
        sandbox.world.store(sandbox.config.store_hash).companies
    )


def test_all_pages_b2b(env: dict[str, str], sandbox: RunningSandbox) -> None:
    code, output = run(env, "/companies", "--b2b", "--all", "-p", "limit=2")
    assert code == 0, output
    companies = json.loads(output)
    store = sandbox.world.store(sandbox.config.store_hash)
    assert sorted(item["companyId"] for item in companies) == sorted(store.companies)


def test_all_pages_v3(env: dict[str, str]) -> None:
    code, output = run(env, "/v3/orders/metafields", "-p", "key=orderType", "-p", "limit=3")
    assert code == 0, output
    total = json.loads(output)["meta"]["pagination"]["total"]
    code, output = run(
        env, "/v3/orders/metafields", "--all", "-p", "key=orderType", "-p", "limit=7"
    )
    assert code == 0, output
    metafields = json.loads(output)
    assert len(metafields) == total
    assert len({item["id"] for item in metafields}) == total


def test_api_errors_are_one_line(env: dict[str, str]) -> None:
    code, output = run(env, "/orders/987654321", "--b2b")
    assert code == 1
    # The full URL, so a wrong B2B_API_URL shows at once.
    assert output.startswith(
        "Error: BigCommerce has no such resource. "
        f"(GET {env['B2B_API_URL']}/api/v3/io/orders/987654321) [404]"
    )
    assert output.count("\n") == 1
    assert env["BIGCOMMERCE_ACCESS_TOKEN"] not in output


def test_bad_arguments_are_usage_errors(env: dict[str, str]) -> None:
    assert run(env, "/v2/orders", "-p", "nokeyvalue")[0] == 2
    assert run(env, "/orders")[0] == 2


def test_all_pages_closes_the_array_and_fails_when_a_later_page_fails(
    env: dict[str, str], sandbox: RunningSandbox
) -> None:
    with run_corrupting_proxy(sandbox.base_url, CORRUPTIONS["b2b_company"]) as proxy:
        proxy.corrupting = False
        proxy.refuse_from = 2
        result = CliRunner().invoke(
            app,
            ["api", "get", "/companies", "--b2b", "--all", "-p", "limit=2"],
            env={**env, "B2B_API_URL": proxy.base_url + "/b2b"},
        )
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)) == 4
    assert "refused by the test proxy" in result.stderr
    assert "stopped after 4 item(s)" in result.stderr
