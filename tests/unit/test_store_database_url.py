"""Which database URLs the store accepts, and how it names the ones it does not."""

from __future__ import annotations

import pytest

from b2bsync.store import UnsupportedDatabaseURL, create_engine, display_url


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@db.example/b2bsync",
        "postgresql+psycopg://u@db.example/b2bsync",
        "postgres://u@db.example/b2bsync",
    ],
)
async def test_postgres_urls_use_psycopg_3(url: str) -> None:
    engine = create_engine(url)
    try:
        assert engine.url.drivername == "postgresql+psycopg"
        assert engine.dialect.name == "postgresql"
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("mysql://u@h/db", "'mysql'"),
        ("postgresql+psycopg2://u@h/db", "'postgresql+psycopg2'"),
        ("oracle+oracledb://u@h/db", "'oracle+oracledb'"),
    ],
)
def test_other_schemes_are_refused_by_name(url: str, named: str) -> None:
    with pytest.raises(UnsupportedDatabaseURL) as refused:
        create_engine(url)
    assert str(refused.value).startswith(f"unsupported database URL scheme {named}:")


def test_display_url_masks_the_password() -> None:
    assert display_url("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"
    assert display_url("sqlite:///.b2bsync/b2bsync.db") == "sqlite:///.b2bsync/b2bsync.db"
