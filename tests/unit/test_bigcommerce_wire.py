"""Wire types: every date format of the three APIs, money, lenient ints, tolerant models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from b2bsync.bigcommerce._wire import (
    format_iso8601,
    format_rfc2822,
    format_unix,
    parse_datetime,
    parse_money,
)
from b2bsync.bigcommerce.models import B2BOrder, Company, Invoice, Metafield, Order, Payment

moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(moments, offsets)
def test_rfc2822_with_any_offset_round_trips(moment: datetime, offset: timezone) -> None:
    whole = moment.replace(microsecond=0)
    text = format_datetime(whole.astimezone(offset))
    assert parse_datetime(text) == whole
    assert parse_datetime(text).utcoffset() == timedelta(0)


@given(moments)
def test_rfc2822_as_we_write_it_round_trips(moment: datetime) -> None:
    whole = moment.replace(microsecond=0)
    text = format_rfc2822(whole)
    assert text.endswith("+0000")
    assert parse_datetime(text) == whole


@given(moments, offsets, st.booleans())
def test_iso8601_with_offset_and_fractions_round_trips(
    moment: datetime, offset: timezone, zulu: bool
) -> None:
    text = moment.astimezone(offset).isoformat()
    assert parse_datetime(text) == moment
    if zulu:
        assert parse_datetime(moment.replace(tzinfo=None).isoformat() + "Z") == moment


@given(moments)
def test_iso8601_without_offset_means_utc(moment: datetime) -> None:
    assert parse_datetime(moment.replace(tzinfo=None).isoformat()) == moment
    assert parse_datetime(format_iso8601(moment)) == moment


@given(moments)
def test_unix_seconds_as_number_or_string_round_trip(moment: datetime) -> None:
    whole = moment.replace(microsecond=0)
    seconds = format_unix(whole)
    assert parse_datetime(seconds) == whole
    assert parse_datetime(str(seconds)) == whole
    assert parse_datetime(float(seconds)) == whole


def test_fixed_examples_from_the_docs() -> None:
    expected = datetime(2012, 11, 20, tzinfo=UTC)
    assert parse_datetime("Tue, 20 Nov 2012 00:00:00 +0000") == expected
    assert parse_datetime("Mon, 19 Nov 2012 19:00:00 -0500") == expected
    assert parse_datetime("2012-11-20T00:00:00+00:00") == expected
    assert parse_datetime("2012-11-20T00:00:00.000Z") == expected
    assert parse_datetime("2012-11-20") == expected
    assert parse_datetime(1353369600) == expected
    assert parse_datetime("1353369600") == expected


@pytest.mark.parametrize("bad", ["yesterday", "", True, [], "2012-13-45T00:00:00"])
def test_unreadable_dates_are_rejected(bad: object) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_datetime(bad)


def test_naive_datetimes_are_refused_when_writing() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_rfc2822(datetime(2024, 1, 1))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("336.3200", Decimal("336.32")), (45, Decimal(45)), (0.1, Decimal("0.1")), (" 7 ", 7)],
)
def test_money_from_strings_and_numbers(raw: object, expected: Decimal) -> None:
    assert parse_money(raw) == expected


@pytest.mark.parametrize("bad", ["abc", "NaN", True, None])
def test_money_rejects_non_amounts(bad: object) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_money(bad)


V2_ORDER = {
    "id": "101",
    "customer_id": 7,
    "date_created": "Tue, 20 Nov 2012 00:00:00 +0000",
    "date_modified": "Wed, 21 Nov 2012 10:30:00 +0100",
    "date_shipped": "",
    "status_id": "11",
    "status": "Awaiting Fulfillment",
    "custom_status": "Awaiting Fulfillment",
    "total_inc_tax": "336.3200",
    "payment_provider_id": 998877,
    "billing_address": {"first_name": "Jane", "zip": 78751, "email": "j@example.com"},
    "a_field_added_next_year": {"x": 1},
}


def test_v2_order_converts_and_tolerates() -> None:
    order = Order.model_validate(V2_ORDER)
    assert order.id == 101
    assert order.status_id == 11
    assert order.date_modified == datetime(2012, 11, 21, 9, 30, tzinfo=UTC)
    assert order.date_shipped is None
    assert order.total_inc_tax == Decimal("336.32")
    assert order.payment_provider_id == "998877"
    assert order.billing_address.zip == "78751"
    assert order.model_extra == {"a_field_added_next_year": {"x": 1}}


def test_v2_order_without_required_fields_fails() -> None:
    with pytest.raises(ValidationError, match="date_created"):
        Order.model_validate({"id": 1, "status_id": 1, "date_modified": "2024-01-01"})


def test_metafield_iso_dates() -> None:
    metafield = Metafield.model_validate(
        {
            "id": 3,
            "key": "orderType",
            "value": "invoice payment",
            "namespace": "b2b_edition",
            "resource_id": "101",
            "date_created": "2022-06-16T18:39:00+00:00",
            "date_modified": "2022-06-16T18:39:00.5-02:00",
        }
    )
    assert metafield.resource_id == 101
    assert metafield.date_modified == datetime(2022, 6, 16, 20, 39, 0, 500000, tzinfo=UTC)


def test_b2b_models_read_camel_case_and_unix_dates() -> None:
    company = Company.model_validate(
        {"companyId": 9, "companyName": "Acme", "companyStatus": "1", "createdAt": "1700000000"}
    )
    assert (company.company_id, company.company_status) == (9, 1)
    assert company.created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    order = B2BOrder.model_validate(
        {
            "id": 5,
            "bcOrderId": "101",
            "totalIncTax": 336.32,
            "isInvoiceOrder": 1,
            "invoiceId": None,
            "extraFields": [{"fieldName": "Dept", "fieldValue": "R&D"}],
            "createdAt": 1700000000,
            "cartId": "c1a0b6d2-0000-4000-8000-000000000000",
        }
    )
    assert order.bc_order_id == 101
    assert order.total_inc_tax == Decimal("336.32")
    assert order.is_invoice_order == 1
    assert order.extra_fields[0].field_value == "R&D"


def test_invoice_and_payment_amounts() -> None:
    invoice = Invoice.model_validate(
        {
            "id": 4,
            "invoiceNumber": "INV-4",
            "customerId": "12",
            "openBalance": {"code": "USD", "value": "400.0000"},
            "originalBalance": {"code": "USD", "value": 500},
            "createdAt": "1700000000",
            "dueDate": 1700086400,
        }
    )
    assert invoice.customer_id == 12
    assert invoice.open_balance.value == Decimal("400")
    assert invoice.original_balance.value == Decimal(500)
    payment = Payment.model_validate(
        {
            "id": 8,
            "moduleName": "payments_bigcommerce_sales_order",
            "moduleData": {"orderId": "101", "cartId": "abc", "transactions": []},
            "lineItems": [{"invoiceId": 4, "amount": {"code": "USD", "value": "20.00"}}],
            "total": {"code": "USD", "value": "20.00"},
        }
    )
    assert payment.bc_order_id == 101
    assert payment.line_items[0].amount.value == Decimal("20.00")
