"""`web/masking.py`: what the Settings page may show."""

from __future__ import annotations

from b2bsync.web.masking import MASK, masked


def test_secret_keys_headers_and_url_passwords_are_masked() -> None:
    shown = masked(
        {
            "name": "erp",
            "access_token": "abc",
            "client_secret": "def",
            "headers": {"X-Api-Key": "ghi", "X-Plain": "jkl"},
            "url": "https://user:pw@erp.example/in",
            "nested": [{"password": "mno"}, "postgresql://a:pq@db/x"],
            "empty_token": "",
            "port": 5432,
        }
    )
    assert shown["name"] == "erp"
    assert shown["access_token"] == shown["client_secret"] == MASK
    assert shown["headers"] == {"X-Api-Key": MASK, "X-Plain": MASK}
    assert shown["url"] == "https://user:***@erp.example/in"
    assert shown["nested"] == [{"password": MASK}, "postgresql://a:***@db/x"]
    assert shown["empty_token"] == ""
    assert shown["port"] == 5432
