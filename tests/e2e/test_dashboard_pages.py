"""The dashboard as a person uses it, in headless Chromium: every page renders the synced
ledger, filters narrow the table, an order shows its invoice payment, Retry delivers a dead
letter, and without the token nothing but the login page answers. Each page is saved as a
screenshot at 1280 and 390 px under `test-results/dashboard/`."""

from __future__ import annotations

import itertools

from playwright.sync_api import Browser, FloatRect, Page, expect

from tests.e2e.conftest import E2E_TOKEN, STORE_SECRET, ServedDashboard, screenshot


def test_without_the_token_only_the_login_page_answers(
    browser: Browser, served: ServedDashboard
) -> None:
    context = browser.new_context(base_url=served.base_url)
    try:
        stranger = context.new_page()
        response = stranger.goto("/failures")
        assert response is not None
        assert response.status == 401
        expect(stranger.locator("form[action='/login']")).to_be_visible()
        expect(stranger.locator("#dead-table")).to_have_count(0)
        api = context.request.get("/api/overview")
        assert api.status == 401
        assert api.json() == {"error": "authentication required"}
        forged = context.request.post("/api/deadletters/retry", data={"store": served.ledger.store})
        assert forged.status == 401
        screenshot(stranger, "login")
    finally:
        context.close()
    assert served.recorder.received == []


def test_the_overview_shows_the_synced_ledger(page: Page, served: ServedDashboard) -> None:
    ledger = served.ledger
    page.goto("/")
    total = page.get_by_test_id("orders-total")
    expect(total).not_to_have_text("0")
    shown = page.request.get("/api/overview").json()
    expect(total).to_have_text(str(shown["orders"]))
    assert shown["by_type"]["invoice_payment"] == len(ledger.invoice_payments)
    assert page.locator("svg.chart rect").count() > 0
    expect(page.locator("#live")).to_have_attribute("hx-trigger", "every 5s")
    screenshot(page, "overview")


def test_a_filter_narrows_the_order_table(page: Page, served: ServedDashboard) -> None:
    page.goto("/orders")
    rows = page.locator("#orders-table tbody tr")
    everything = rows.count()
    page.select_option("select[name=type]", "invoice_payment")
    page.click("#order-filters button")
    page.wait_for_url("**type=invoice_payment**")
    expected = len(served.ledger.invoice_payments)
    expect(page.get_by_test_id("orders-count")).to_contain_text(f"{expected} order(s)")
    expect(rows).to_have_count(min(expected, 50))
    assert expected < everything
    assert set(page.locator("#orders-table tbody .tag").all_inner_texts()) == {"invoice payment"}
    screenshot(page, "orders")


def test_an_invoice_payment_shows_the_invoices_it_paid(page: Page, served: ServedDashboard) -> None:
    store = served.ledger.store
    for order_id in served.ledger.invoice_payments:
        detail = page.request.get(f"/api/orders/{store}/{order_id}").json()
        if detail["payment"] and detail["payment"]["lines"]:
            break
    else:
        raise AssertionError("no invoice payment has its payment cached")
    page.goto("/orders")
    page.fill("input[name=search]", str(order_id))
    page.click("#order-filters button")
    page.click(f"#orders-table a:text-is('{order_id}')")
    payments = page.locator("#invoice-payments")
    expect(payments).to_be_visible()
    for line in detail["payment"]["lines"]:
        expect(payments).to_contain_text(line["invoice_number"])
        expect(payments).to_contain_text(line["amount"])
    screenshot(page, "order")


def test_a_dead_letter_retried_on_the_failures_page_is_delivered_and_gone(
    page: Page, served: ServedDashboard
) -> None:
    dead = served.ledger.dead_orders[0]
    page.goto("/failures")
    row = page.locator(f"#dead-table tr[data-order='{dead}']")
    expect(row).to_have_count(1)
    screenshot(page, "failures")
    row.locator("button.retry").click()
    expect(page.locator("#notice")).to_contain_text("1 delivered")
    expect(page.locator(f"#dead-table tr[data-order='{dead}']")).to_have_count(0)
    expect(page.locator("#dead-table tbody tr[data-order]")).to_have_count(
        len(served.ledger.dead_orders) - 1
    )
    assert [delivery.order_id for delivery in served.recorder.received] == [dead]


def test_the_invoice_and_settings_pages_render(page: Page) -> None:
    page.goto("/invoices")
    expect(page.locator("#invoices-table tbody tr").first).to_be_visible()
    expect(page.locator("#payments-table")).to_be_visible()
    screenshot(page, "invoices")
    page.goto("/settings")
    expect(page.locator("h1")).to_contain_text("Settings")
    expect(page.locator("main")).to_contain_text("erp.example")
    assert STORE_SECRET not in page.content()
    screenshot(page, "settings")


PHONE = {"width": 390, "height": 844}


def test_at_phone_width_nothing_scrolls_sideways_and_deliveries_stack(
    browser: Browser, served: ServedDashboard
) -> None:
    context = browser.new_context(base_url=served.base_url, viewport=PHONE)
    phone = context.new_page()
    try:
        phone.goto("/login")
        phone.fill("input[name=token]", E2E_TOKEN)
        phone.click("form[action='/login'] button")
        phone.wait_for_url(f"{served.base_url}/")
        order = served.ledger.invoice_payments[0]
        store = served.ledger.store
        for path in ("/", "/orders", f"/orders/{store}/{order}", "/invoices", "/failures"):
            phone.goto(path)
            page_width = phone.evaluate("document.documentElement.scrollWidth")
            assert page_width <= PHONE["width"], f"{path} scrolls sideways ({page_width} px)"
            # The menu stacks in at most two rows, every item on screen.
            found = [link.bounding_box() for link in phone.locator(".top nav a").all()]
            boxes = [box for box in found if box is not None]
            assert len(boxes) == len(found) >= 5
            assert all(box["x"] + box["width"] <= PHONE["width"] for box in boxes)
            tops = sorted(box["y"] for box in boxes)
            rows = 1 + sum(1 for a, b in itertools.pairwise(tops) if b - a > box_height(boxes))
            assert rows <= 2, f"the menu takes {rows} rows on {path}"
        phone.goto(f"/orders/{store}/{order}")
        delivered = phone.locator("#deliveries-table td[data-label='delivered']").first
        expect(delivered).to_be_visible()
        box = delivered.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= PHONE["width"]
        expect(phone.locator("#deliveries-table thead")).to_be_hidden()
    finally:
        context.close()


def box_height(boxes: list[FloatRect]) -> float:
    """Half the menu items' height: tops closer than that are on one row."""
    return max(box["height"] for box in boxes) / 2
