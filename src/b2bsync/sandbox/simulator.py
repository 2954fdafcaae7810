"""The world that moves: shoppers order, buyers pay invoices, staff ship and change statuses.

A simulation runs `rate` events per second for `duration` seconds on one store, as a task on
the server's event loop (so it never races a request). Each event is one of: an online order
(B2B buyer or B2C shopper), an invoice payment through the Invoice Portal (partial or full,
sometimes several invoices; invoices are raised from older online orders when none is open),
or a staff action (status change or shipment). Given a seed the sequence of decisions is
deterministic; wall-clock timing is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from b2bsync.sandbox.b2b.invoices import create_invoice_from_order
from b2bsync.sandbox.b2b.payments import checkout_invoice_payment
from b2bsync.sandbox.config import SandboxConfig
from b2bsync.sandbox.models import Address, Customer, Invoice, Order
from b2bsync.sandbox.orders import LineSpec, create_shipment, place_order, update_order
from b2bsync.sandbox.world import StoreState, World

CENT = Decimal("0.01")
TAX_RATE = Decimal("0.08")
STAFF_ACTION_SHARE = 0.25
"""Share of events that are staff actions rather than new orders."""

_NEXT_STATUS = {7: (11,), 1: (11, 7), 11: (9, 10), 9: (10,)}
"""Status moves staff make: awaiting payment -> awaiting fulfillment -> shipment -> completed."""


@dataclass(frozen=True, slots=True)
class SimulationSpec:
    """What `POST /__sandbox/simulate` asked for."""

    rate: float
    duration: float
    invoice_share: float
    seed: int | None = None


class Simulator:
    """Decides and performs one event at a time on one store."""

    def __init__(
        self, state: StoreState, config: SandboxConfig, rng: random.Random, invoice_share: float
    ) -> None:
        self.state = state
        self.config = config
        self.rng = rng
        self.invoice_share = invoice_share

    def step(self, now: datetime) -> str:
        """Perform one event; returns its kind (the key counted in the progress)."""
        if self.rng.random() < STAFF_ACTION_SHARE and (kind := self._staff_action(now)):
            return kind
        if self.rng.random() < self.invoice_share and (kind := self._pay_invoices(now)):
            return kind
        self._place_online_order(now, b2b=self.rng.random() < 0.6)
        return "online_orders"

    def _customers(self, *, b2b: bool) -> list[Customer]:
        return [c for c in self.state.customers.values() if (c.company_id is not None) == b2b]

    def _address(self, customer: Customer) -> Address:
        company = self.state.companies.get(customer.company_id or 0)
        if company is not None:
            return Address(
                first_name=customer.first_name,
                last_name=customer.last_name,
                company=company.name,
                street_1=company.address_line1,
                street_2="",
                city=company.city,
                state=company.state,
                zip=company.zip_code,
                country=company.country,
                country_iso2="US",
                phone=customer.phone,
                email=customer.email,
            )
        return Address(
            first_name=customer.first_name,
            last_name=customer.last_name,
            company="",
            street_1=f"{self.rng.randint(1, 999)} Main Street",
            street_2="",
            city="Austin",
            state="Texas",
            zip="78751",
            country="United States",
            country_iso2="US",
            phone=customer.phone,
            email=customer.email,
        )

    def _lines(self) -> list[LineSpec]:
        catalog = list(self.state.catalog.values())
        if not catalog:
            price = Decimal(self.rng.randint(500, 20_000)) / 100
            return [LineSpec("Custom item", 1, price, (price * (1 + TAX_RATE)).quantize(CENT))]
        lines = []
        for product in self.rng.sample(catalog, k=min(len(catalog), self.rng.randint(1, 3))):
            lines.append(
                LineSpec(
                    name=product.name,
                    quantity=self.rng.randint(1, 4),
                    price_ex_tax=product.price,
                    price_inc_tax=(product.price * (1 + TAX_RATE)).quantize(CENT),
                    product_id=product.id,
                    variant_id=product.variant_id,
                    sku=product.sku,
                    type="digital" if product.is_digital else "physical",
                )
            )
        return lines

    def _place_online_order(self, now: datetime, *, b2b: bool) -> Order:
        customers = self._customers(b2b=b2b) or self._customers(b2b=not b2b)
        customer = self.rng.choice(customers) if customers else None
        draw = self.rng.random()
        status_id = 0 if draw < 0.04 else 1 if draw < 0.12 else 7 if draw < 0.27 else 11
        paid_by_po = customer is not None and customer.company_id is not None and status_id == 7
        address = (
            self._address(customer)
            if customer
            else self._address(Customer(0, "Guest", "Shopper", "guest@example.com"))
        )
        return place_order(
            self.state,
            customer_id=customer.id if customer else 0,
            billing_address=address,
            lines=self._lines(),
            now=now,
            status_id=status_id,
            payment_method="Purchase Order" if paid_by_po else "Credit Card",
            config=self.config,
        )

    def _open_invoices(self) -> dict[int, list[Invoice]]:
        by_company: dict[int, list[Invoice]] = {}
        for invoice in self.state.invoices.values():
            if invoice.status != 2 and invoice.open_balance.value > 0:
                by_company.setdefault(invoice.customer_id, []).append(invoice)
        return by_company

    def _raise_invoice(self, now: datetime) -> bool:
        """Invoice an older B2B online order that has none yet (placing one if needed)."""
        candidates = [
            order
            for order in self.state.orders.values()
            if order.truth_kind == "online order"
            and not order.truth_invoice_ids
            and not order.is_deleted
            and order.status_id not in (0, 5, 6)
            and (customer := self.state.customers.get(order.customer_id)) is not None
            and customer.company_id is not None
        ]
        if not candidates:
            if not self._customers(b2b=True):
                return False
            candidates = [self._place_online_order(now, b2b=True)]
        create_invoice_from_order(self.state, self.rng.choice(candidates), now)
        return True

    def _pay_invoices(self, now: datetime) -> str | None:
        open_invoices = self._open_invoices()
        if not open_invoices and self._raise_invoice(now):
            open_invoices = self._open_invoices()
        payable = {
            company_id: invoices
            for company_id, invoices in open_invoices.items()
            if any(c.company_id == company_id for c in self.state.customers.values())
        }
        if not payable:
            return None
        company_id = self.rng.choice(sorted(payable))
        invoices = payable[company_id]
        several = len(invoices) > 1 and self.rng.random() < 0.25
        chosen = self.rng.sample(
            invoices, k=self.rng.randint(2, min(3, len(invoices))) if several else 1
        )
        allocations = []
        for invoice in chosen:
            balance = invoice.open_balance.value
            if self.rng.random() < 0.6 or balance <= CENT:
                amount = balance
            else:
                amount = max(CENT, (balance * Decimal(self.rng.uniform(0.1, 0.9))).quantize(CENT))
            allocations.append((invoice.id, amount))
        buyer = self.rng.choice(
            [c for c in self.state.customers.values() if c.company_id == company_id]
        )
        checkout_invoice_payment(
            self.state,
            company_id=company_id,
            customer_id=buyer.id,
            allocations=allocations,
            now=now,
            config=self.config,
        )
        return "invoice_payments"

    def _staff_action(self, now: datetime) -> str | None:
        recent = sorted(self.state.orders.values(), key=lambda o: o.id)[-60:]
        movable = [
            order
            for order in recent
            if not order.is_deleted
            and order.truth_kind == "online order"
            and order.status_id in _NEXT_STATUS
        ]
        if not movable:
            return None
        order = self.rng.choice(movable)
        address_id = order.shipping_addresses[0].id if order.shipping_addresses else 0
        unshipped = [
            p
            for p in order.products
            if p.type == "physical"
            and p.order_address_id == address_id
            and p.quantity_shipped < p.quantity
        ]
        if order.status_id in (11, 9) and unshipped and self.rng.random() < 0.5:
            create_shipment(
                self.state,
                order,
                order_address_id=address_id,
                items=[(p.id, p.quantity - p.quantity_shipped) for p in unshipped],
                now=now,
                tracking_number=f"1Z{self.rng.randrange(10**12):012d}",
            )
            return "shipments"
        update_order(
            self.state, order, {"status_id": self.rng.choice(_NEXT_STATUS[order.status_id])}, now
        )
        return "status_changes"


@dataclass
class Simulation:
    """One run: its settings, progress and the task performing it."""

    id: str
    store_hash: str
    spec: SimulationSpec
    started_at: datetime
    state: str = "running"
    counts: Counter[str] = field(default_factory=Counter)
    events_done: int = 0
    error: str = ""
    task: asyncio.Task[None] | None = None
    _started: float = field(default_factory=time.monotonic)
    _finished: float | None = None

    @property
    def events_planned(self) -> int:
        """How many events the run performs in total."""
        return max(1, math.ceil(self.spec.rate * self.spec.duration))

    def progress(self) -> dict[str, Any]:
        """JSON body of `GET /__sandbox/simulate`."""
        end = self._finished if self._finished is not None else time.monotonic()
        return {
            "id": self.id,
            "state": self.state,
            "rate": self.spec.rate,
            "duration": self.spec.duration,
            "invoice_share": self.spec.invoice_share,
            "seed": self.spec.seed,
            "started_at": self.started_at.isoformat(),
            "elapsed": round(end - self._started, 3),
            "events_planned": self.events_planned,
            "events_done": self.events_done,
            "counts": {
                name: self.counts[name]
                for name in ("online_orders", "invoice_payments", "status_changes", "shipments")
            },
            "error": self.error,
        }

    def finish(self, state: str) -> None:
        """Record how the run ended (done, stopped or failed)."""
        if self.state == "running":
            self.state = state
            self._finished = time.monotonic()


async def _run(simulation: Simulation, world: World, simulator: Simulator) -> None:
    interval = 1 / simulation.spec.rate
    started = time.monotonic()
    try:
        for number in range(simulation.events_planned):
            delay = started + number * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            simulation.counts[simulator.step(world.clock())] += 1
            simulation.events_done += 1
    except Exception as exc:  # a broken step ends the run visibly instead of silently
        simulation.error = f"{type(exc).__name__}: {exc}"
        simulation.finish("failed")
        return
    simulation.finish("done")


class SimulationManager:
    """At most one simulation per store; starting another replaces it."""

    def __init__(self) -> None:
        self._by_store: dict[str, Simulation] = {}
        self._ids = itertools.count(1)

    def start(self, world: World, store_hash: str, spec: SimulationSpec) -> Simulation:
        """Start a simulation on `store_hash` (must be called on the server's event loop)."""
        previous = self._by_store.get(store_hash)
        if previous is not None and previous.task is not None:
            previous.task.cancel()
            previous.finish("stopped")
        number = next(self._ids)
        seed = spec.seed if spec.seed is not None else world.config.seed * 1000 + number
        simulation = Simulation(f"sim_{number}", store_hash, spec, world.clock())
        simulator = Simulator(
            world.stores[store_hash], world.config, random.Random(seed), spec.invoice_share
        )
        simulation.task = asyncio.create_task(
            _run(simulation, world, simulator), name=f"sandbox-{simulation.id}"
        )
        self._by_store[store_hash] = simulation
        return simulation

    def get(self, store_hash: str) -> Simulation | None:
        """The current or last simulation of a store."""
        return self._by_store.get(store_hash)

    async def stop(self, store_hash: str) -> None:
        """Stop the store's simulation if it runs."""
        simulation = self._by_store.get(store_hash)
        if simulation is None or simulation.task is None:
            return
        simulation.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await simulation.task
        simulation.finish("stopped")

    async def stop_all(self) -> None:
        """Stop every simulation (server shutdown)."""
        for store_hash in list(self._by_store):
            await self.stop(store_hash)
