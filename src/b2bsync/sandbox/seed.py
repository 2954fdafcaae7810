"""The sandbox's seeded history: a believable B2B + B2C store, reproducible from one seed.

`build_world(config)` gives each store a catalog, companies with their buyers, retail
customers, ~90 days of orders in every status (shipped, completed, refunded, abandoned...),
invoices raised for a share of the company orders, and invoice payments made through the
Invoice Portal checkout, so that roughly a fifth to a quarter of all orders are invoice payments.
History is generated in time order and the store's scheduled actions run as it goes, so each
order has its `orderType` metafield and (for company buyers) its B2B Edition record, as it would
in a real store. Only dates depend on the wall clock; everything else follows from the seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from b2bsync.sandbox.actions import run_due
from b2bsync.sandbox.b2b.companies import create_company
from b2bsync.sandbox.b2b.invoices import create_invoice_from_order
from b2bsync.sandbox.b2b.payments import checkout_invoice_payment
from b2bsync.sandbox.config import SandboxConfig
from b2bsync.sandbox.models import Address, CatalogProduct, Company, Customer, Invoice, Order
from b2bsync.sandbox.orders import (
    DEFAULT_CUSTOM_LABELS,
    ORDER_STATUSES,
    PARTIALLY_REFUNDED,
    REFUNDED,
    LineSpec,
    create_shipment,
    place_order,
    total_inc_tax,
    update_order,
)
from b2bsync.sandbox.world import StoreState, World, utcnow

CENT = Decimal("0.01")
TAX_RATE = Decimal("0.0825")
HISTORY = timedelta(days=90)
INVOICE_PAYMENT_SHARE = 0.23
"""Chance that a moment of history is a buyer paying invoices (when any are open)."""
B2B_SHARE = 0.6
"""Share of online orders placed by company buyers (when the store has companies)."""
INVOICED_SHARE = 0.55
"""Share of eligible company orders that get an invoice (bought on account)."""

FIRST_NAMES = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Steven",
    "Ashley",
    "Andrew",
    "Emily",
    "Kenneth",
    "Kimberly",
    "Joshua",
    "Donna",
    "Kevin",
    "Michelle",
    "Brian",
    "Carol",
    "Priya",
    "Wei",
    "Aisha",
    "Diego",
    "Mei",
    "Omar",
    "Grace",
    "Hiroshi",
    "Fatima",
    "Luis",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Patel",
    "Kim",
    "Chen",
]
CITIES = (
    ("Austin", "Texas", "TX", "787"),
    ("Dallas", "Texas", "TX", "752"),
    ("Denver", "Colorado", "CO", "802"),
    ("Chicago", "Illinois", "IL", "606"),
    ("Columbus", "Ohio", "OH", "432"),
    ("Atlanta", "Georgia", "GA", "303"),
    ("Seattle", "Washington", "WA", "981"),
    ("Portland", "Oregon", "OR", "972"),
    ("Phoenix", "Arizona", "AZ", "850"),
    ("Nashville", "Tennessee", "TN", "372"),
    ("Minneapolis", "Minnesota", "MN", "554"),
    ("Charlotte", "North Carolina", "NC", "282"),
    ("Boston", "Massachusetts", "MA", "021"),
    ("San Diego", "California", "CA", "921"),
    ("Sacramento", "California", "CA", "958"),
    ("Salt Lake City", "Utah", "UT", "841"),
    ("Kansas City", "Missouri", "MO", "641"),
    ("Pittsburgh", "Pennsylvania", "PA", "152"),
    ("Tampa", "Florida", "FL", "336"),
    ("Milwaukee", "Wisconsin", "WI", "532"),
)
STREETS = (
    "Main Street",
    "Oak Avenue",
    "Industrial Parkway",
    "Commerce Drive",
    "Maple Street",
    "Cedar Lane",
    "Lakeview Boulevard",
    "Market Street",
    "Warehouse Road",
    "Elm Street",
    "Park Avenue",
    "Enterprise Way",
)
COMPANY_WORDS = [
    "Summit",
    "Pioneer",
    "Cascade",
    "Keystone",
    "Harbor",
    "Ironwood",
    "Redwood",
    "Prairie",
    "Granite",
    "Beacon",
    "Atlas",
    "Northstar",
    "Bluewater",
    "Evergreen",
    "Frontier",
    "Meridian",
    "Silverline",
    "Copperfield",
    "Riverside",
    "Lakeshore",
]
COMPANY_TRADES = (
    "Supply",
    "Hospitality Group",
    "Facilities",
    "Dental Partners",
    "Construction",
    "Office Solutions",
    "Fitness Clubs",
    "Cafés",
    "Property Management",
    "Veterinary Clinics",
)
COMPANY_SUFFIXES = ("Inc.", "LLC", "Co.", "Corp.", "Ltd.")
PRODUCTS = (
    ("Nitrile Exam Gloves, Box of 100", "GLV-NIT-100", "MedLine", "12.99"),
    ("Heavy-Duty Trash Bags, 42 gal (50)", "BAG-42G-50", "Contractor Pro", "24.50"),
    ("Copy Paper, 8.5x11, Case of 10 Reams", "PPR-LTR-10R", "Hammermill", "54.99"),
    ("Ergonomic Mesh Office Chair", "CHR-MESH-01", "WorkPro", "189.00"),
    ("Stainless Steel Prep Table 48in", "TBL-SS-48", "Regency", "229.95"),
    ("Commercial Coffee Brewer", "COF-BRW-3", "Bunn", "412.00"),
    ("Ground Coffee, Medium Roast 5 lb", "COF-MED-5LB", "Lavazza", "39.75"),
    ("Disinfectant Spray, 19 oz (12)", "CLN-DIS-12", "Lysol", "71.88"),
    ("Microfiber Cleaning Cloths (24)", "CLN-MFC-24", "Zwipes", "18.99"),
    ("LED Shop Light 4ft", "LGT-LED-4FT", "Hyperikon", "32.40"),
    ("Safety Glasses, Clear (12)", "SAF-GLS-12", "3M", "27.60"),
    ("Hi-Vis Safety Vest", "SAF-VST-L", "Ergodyne", "9.85"),
    ("Cordless Drill Kit 20V", "TLS-DRL-20V", "DeWalt", "149.00"),
    ("Pallet Jack 5500 lb", "WHS-PJ-5500", "Vestil", "389.00"),
    ("Shelving Unit, 5-Tier Steel", "WHS-SHF-5T", "Edsal", "118.50"),
    ("Paper Towels, Multifold (16 packs)", "JAN-PTW-16", "Tork", "44.20"),
    ("Hand Soap Refill 1L (6)", "JAN-SOP-6", "GOJO", "52.30"),
    ("Printer Toner, Black High Yield", "TNR-BLK-HY", "HP", "119.99"),
    ("Label Printer", "LBL-PRT-01", "Brother", "99.00"),
    ("Shipping Labels 4x6 (500)", "LBL-4X6-500", "Avery", "21.75"),
    ("Packing Tape, 2in (36 rolls)", "PCK-TPE-36", "Scotch", "63.00"),
    ("Corrugated Boxes 12x12x12 (25)", "PCK-BOX-12", "Uline", "38.25"),
    ("First Aid Kit, 50 Person", "SAF-FAK-50", "Johnson & Johnson", "46.99"),
    ("Whiteboard 4x6 ft", "OFF-WBD-46", "Quartet", "134.00"),
    ("Dry Erase Markers (12)", "OFF-MRK-12", "Expo", "11.49"),
    ("Bottled Water 16.9 oz (24)", "BRK-WTR-24", "Poland Spring", "7.99"),
    ("Disposable Cups 12 oz (1000)", "BRK-CUP-1K", "Dart", "58.60"),
    ("Commercial Vacuum, Upright", "JAN-VAC-UP", "Sanitaire", "279.00"),
    ("Ice Melt 50 lb", "FAC-ICE-50", "Safe Step", "26.90"),
    ("HVAC Air Filter 20x25x1 (12)", "FAC-FLT-12", "Filtrete", "84.00"),
)
DIGITAL_PRODUCTS = (
    ("Safety Training Course (Online)", "DIG-SAF-TRN", "SafetyU", "79.00"),
    ("Extended Warranty, 2 Years", "DIG-WAR-2Y", "WarrantyCo", "49.00"),
)
COST_CENTERS = ("CC-1000 Operations", "CC-2100 Facilities", "CC-3300 Kitchen", "CC-4100 Retail")
DELIVERY_WINDOWS = ("Morning", "Afternoon", "Evening")
CUSTOMER_NOTES = (
    "Please deliver to the loading dock.",
    "Call before delivery.",
    "Leave with front desk.",
    "",
)

_STATUS_WEIGHTS_OLD = {
    10: 34, 2: 30, 11: 6, 5: 5, 4: 3, 14: 2, 3: 3, 9: 2, 7: 3, 1: 2, 0: 4, 6: 2, 12: 1, 13: 1, 8: 2,
}  # fmt: skip
_STATUS_WEIGHTS_RECENT = {
    11: 40, 2: 14, 10: 6, 9: 8, 3: 5, 7: 8, 1: 5, 0: 6, 12: 2, 8: 2, 5: 2, 6: 2,
}  # fmt: skip
_RECENT = timedelta(days=5)
_SHIPPING_STATUSES = frozenset({2, 3, 10})
_INVOICEABLE_STATUSES = frozenset({2, 3, 9, 10, 11})


@dataclass(slots=True)
class _Buyer:
    customer: Customer
    address: Address


def build_world(config: SandboxConfig, *, now: datetime | None = None) -> World:
    """Every store of `config`, each seeded from its own seed derived from `config.seed`.

    `now` pins the end of history (tests compare two worlds built at the same moment).
    """
    moment = now or utcnow()
    stores = {
        store_hash: seed_store(store_hash, config, seed=f"{config.seed}:{index}", now=moment)
        for index, store_hash in enumerate(config.store_hashes)
    }
    return World(config=config, stores=stores)


def seed_store(store_hash: str, config: SandboxConfig, *, seed: str, now: datetime) -> StoreState:
    """One store with `config.orders` orders of history ending shortly before `now`."""
    state = StoreState(store_hash=store_hash, rng=random.Random(seed))
    _Seeder(state, config, now).run()
    return state


class _Seeder:
    def __init__(self, state: StoreState, config: SandboxConfig, now: datetime) -> None:
        self.state = state
        self.rng = state.rng
        self.config = config
        self.now = now
        self.buyers: dict[int, list[_Buyer]] = {}
        self.retail: list[_Buyer] = []
        self.open_invoices: dict[int, list[int]] = {}
        self.online_orders = 0

    def run(self) -> None:
        state = self.state
        state.order_status_labels.update(DEFAULT_CUSTOM_LABELS)
        self._catalog()
        start = self.now - HISTORY
        self._companies(start)
        self._retail_customers()
        span = (self.now - timedelta(minutes=5) - start).total_seconds()
        moments = sorted(
            start + timedelta(seconds=int(self.rng.uniform(0, span)))
            for _ in range(self.config.orders)
        )
        for moment in moments:
            run_due(state, moment)
            if not (self.rng.random() < INVOICE_PAYMENT_SHARE and self._pay_invoices(moment)):
                self._online_order(moment)
        run_due(state, self.now)
        state.events.clear()
        state.modified_order_ids.clear()

    # --- people and things -------------------------------------------------------------------

    def _catalog(self) -> None:
        state = self.state
        for name, sku, brand, price in PRODUCTS:
            product_id = state.next_id("product", 101)
            state.catalog[product_id] = CatalogProduct(
                id=product_id,
                name=name,
                sku=sku,
                price=Decimal(price),
                variant_id=state.next_id("variant", 201),
                brand=brand,
                weight=Decimal(self.rng.randint(1, 400)) / 10,
            )
        for name, sku, brand, price in DIGITAL_PRODUCTS:
            product_id = state.next_id("product", 101)
            state.catalog[product_id] = CatalogProduct(
                id=product_id,
                name=name,
                sku=sku,
                price=Decimal(price),
                variant_id=state.next_id("variant", 201),
                brand=brand,
                is_digital=True,
                weight=Decimal("0"),
            )
        # B2B Edition's Invoice Portal checks out a hidden digital product of this name.
        product_id = state.next_id("product", 101)
        state.catalog[product_id] = CatalogProduct(
            id=product_id,
            name="Invoice Payment",
            sku="",
            price=Decimal("0"),
            variant_id=state.next_id("variant", 201),
            is_digital=True,
            weight=Decimal("0"),
        )
        state.invoice_payment_product_id = product_id

    def _address(self, first: str, last: str, company: str, email: str, phone: str) -> Address:
        city, region, _, zip_prefix = self.rng.choice(CITIES)
        return Address(
            first_name=first,
            last_name=last,
            company=company,
            street_1=f"{self.rng.randint(10, 9899)} {self.rng.choice(STREETS)}",
            street_2=self.rng.choice(("", "", "", f"Suite {self.rng.randint(100, 950)}")),
            city=city,
            state=region,
            zip=f"{zip_prefix}{self.rng.randint(0, 99):02d}",
            country="United States",
            country_iso2="US",
            phone=phone,
            email=email,
        )

    def _phone(self) -> str:
        return f"{self.rng.randint(201, 989)}555{self.rng.randint(0, 9999):04d}"

    def _person(self, company: Company | None) -> _Buyer:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        customer_id = self.state.next_id("customer", 1)
        domain = company.email.split("@", 1)[1] if company else "example.com"
        email = f"{first.lower()}.{last.lower()}{customer_id}@{domain}"
        phone = self._phone()
        customer = Customer(
            id=customer_id,
            first_name=first,
            last_name=last,
            email=email,
            company_id=company.id if company else None,
            phone=phone,
        )
        self.state.customers[customer_id] = customer
        address = self._address(first, last, company.name if company else "", email, phone)
        if company is not None:
            address.street_1 = company.address_line1
            address.city, address.state, address.zip = company.city, company.state, company.zip_code
        return _Buyer(customer, address)

    def _companies(self, start: datetime) -> None:
        used: set[str] = set()
        for _ in range(self.config.companies):
            name = ""
            while not name or name in used:
                name = (
                    f"{self.rng.choice(COMPANY_WORDS)} {self.rng.choice(COMPANY_TRADES)} "
                    f"{self.rng.choice(COMPANY_SUFFIXES)}"
                )
            used.add(name)
            city, region, _, zip_prefix = self.rng.choice(CITIES)
            company = create_company(
                self.state,
                name=name,
                now=start - timedelta(days=self.rng.randint(30, 700)),
                phone=self._phone(),
                address_line1=f"{self.rng.randint(100, 9899)} {self.rng.choice(STREETS)}",
                city=city,
                region=region,
                zip_code=f"{zip_prefix}{self.rng.randint(0, 99):02d}",
            )
            self.buyers[company.id] = [self._person(company) for _ in range(self.rng.randint(1, 4))]

    def _retail_customers(self) -> None:
        count = max(10, min(5000, self.config.orders // 8))
        self.retail = [self._person(None) for _ in range(count)]

    # --- history ----------------------------------------------------------------------------

    def _status(self, moment: datetime) -> int:
        # The first orders walk through every status so even a tiny store shows them all.
        if self.online_orders < len(ORDER_STATUSES):
            return list(ORDER_STATUSES)[self.online_orders]
        weights = _STATUS_WEIGHTS_RECENT if self.now - moment < _RECENT else _STATUS_WEIGHTS_OLD
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _lines(self, status_id: int) -> list[LineSpec]:
        catalog = [p for p in self.state.catalog.values() if p.sku]
        physical = [p for p in catalog if not p.is_digital]
        digital = [p for p in catalog if p.is_digital]
        chosen = self.rng.sample(physical, k=self.rng.choice((1, 1, 2, 2, 3, 4)))
        if self.rng.random() < 0.06:
            chosen.append(self.rng.choice(digital))
        lines = []
        for index, product in enumerate(chosen):
            quantity = self.rng.choice((1, 1, 2, 3, 5, 10, 12, 24))
            if status_id == 3 and index == 0:
                quantity = max(quantity, 2)
            lines.append(
                LineSpec(
                    name=product.name,
                    quantity=quantity,
                    price_ex_tax=product.price,
                    price_inc_tax=(product.price * (1 + TAX_RATE)).quantize(CENT),
                    product_id=product.id,
                    variant_id=product.variant_id,
                    sku=product.sku,
                    type="digital" if product.is_digital else "physical",
                )
            )
        if self.rng.random() < 0.03:
            price = Decimal(self.rng.randint(2_000, 60_000)) / 100
            lines.append(
                LineSpec(
                    "Custom engraving service", 1, price, (price * (1 + TAX_RATE)).quantize(CENT)
                )
            )
        return lines

    def _online_order(self, moment: datetime) -> None:
        rng = self.rng
        status_id = self._status(moment)
        company_id: int | None = None
        if self.buyers and rng.random() < B2B_SHARE:
            company_id = rng.choice(list(self.buyers))
            buyer: _Buyer | None = rng.choice(self.buyers[company_id])
        else:
            buyer = rng.choice(self.retail) if rng.random() < 0.85 else None
        address = buyer.address if buyer else self._guest_address()
        invoiced = (
            company_id is not None
            and status_id in _INVOICEABLE_STATUSES
            and rng.random() < INVOICED_SHARE
        )
        lines = self._lines(status_id)
        physical = any(line.type == "physical" for line in lines)
        shipping = Decimal(rng.choice((0, 9, 12, 15, 25, 45))) if physical else Decimal("0")
        extra_fields: list[dict[str, str]] = []
        po_number = ""
        if company_id is not None and rng.random() < 0.85:
            po_number = f"PO-{moment.year}-{rng.randint(1, 99_999):05d}"
            extra_fields = [
                {"fieldName": "Cost Center", "fieldValue": rng.choice(COST_CENTERS)},
                {"fieldName": "Delivery Window", "fieldValue": rng.choice(DELIVERY_WINDOWS)},
            ]
        shipping_status = status_id in _SHIPPING_STATUSES and physical
        order = place_order(
            self.state,
            customer_id=buyer.customer.id if buyer else 0,
            billing_address=address,
            lines=lines,
            now=moment,
            status_id=11 if shipping_status else status_id,
            payment_method="Purchase Order" if invoiced else rng.choice(_PAYMENT_METHODS),
            payment_provider_id="" if invoiced else f"{rng.getrandbits(40):010x}",
            payment_status="pending" if invoiced else None,
            shipping_cost_ex_tax=shipping,
            shipping_cost_inc_tax=shipping,
            discount_amount=Decimal(rng.choice((0, 0, 0, 0, 5, 10))),
            customer_message=rng.choice(CUSTOMER_NOTES),
            ip_address=f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}."
            f"{rng.randint(1, 254)}",
            po_number=po_number,
            extra_fields=extra_fields,
            emit_events=False,
            config=self.config,
        )
        self.online_orders += 1
        if status_id == REFUNDED:
            order.refunded_amount = total_inc_tax(order)
        elif status_id == PARTIALLY_REFUNDED:
            order.refunded_amount = (total_inc_tax(order) / 3).quantize(CENT)
        later = self._later(moment)
        if shipping_status:
            self._ship(order, status_id, later)
        if invoiced:
            run_due(self.state, moment + timedelta(seconds=30))
            invoice = create_invoice_from_order(self.state, order, moment + timedelta(minutes=1))
            self.open_invoices.setdefault(invoice.customer_id, []).append(invoice.id)

    def _guest_address(self) -> Address:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        email = f"{first.lower()}{self.rng.randint(1, 999)}@example.net"
        return self._address(first, last, "", email, self._phone())

    def _later(self, moment: datetime) -> datetime:
        """A moment a few hours to days after `moment`, never in the future."""
        delay = timedelta(minutes=self.rng.randint(30, 4 * 24 * 60))
        return min(moment + delay, self.now - timedelta(minutes=1))

    def _ship(self, order: Order, status_id: int, moment: datetime) -> None:
        physical = [p for p in order.products if p.type == "physical"]
        items = [(p.id, p.quantity) for p in physical]
        if status_id == 3:
            items = [(physical[0].id, physical[0].quantity // 2)]
        create_shipment(
            self.state,
            order,
            order_address_id=order.shipping_addresses[0].id,
            items=items,
            now=moment,
            tracking_number=f"1Z{self.rng.randrange(10**16):016d}",
            shipping_provider="ups",
            tracking_carrier="ups",
        )
        if status_id == 10:
            update_order(self.state, order, {"status_id": 10}, self._later(moment))

    def _pay_invoices(self, moment: datetime) -> bool:
        """A buyer paying one or two open invoices of their company; False when none are open."""
        state, rng = self.state, self.rng
        candidates = [company_id for company_id, ids in self.open_invoices.items() if ids]
        if not candidates:
            return False
        company_id = rng.choice(candidates)
        open_ids = self.open_invoices[company_id]
        chosen = open_ids[: 2 if len(open_ids) > 1 and rng.random() < 0.15 else 1]
        allocations = []
        for invoice_id in chosen:
            balance = state.invoices[invoice_id].open_balance.value
            amount = balance
            if rng.random() < 0.3 and balance > 1:
                amount = (balance * Decimal(rng.randint(25, 75)) / 100).quantize(CENT)
            allocations.append((invoice_id, amount))
        buyer = rng.choice(self.buyers[company_id])
        checkout_invoice_payment(
            state,
            company_id=company_id,
            customer_id=buyer.customer.id,
            allocations=allocations,
            now=moment,
            config=self.config,
        )
        open_ids[:] = [i for i in open_ids if _is_open(state.invoices.get(i))]
        return True


def _is_open(invoice: Invoice | None) -> bool:
    return invoice is not None and invoice.open_balance.value > 0


_PAYMENT_METHODS = ("Credit Card", "Credit Card", "Credit Card", "PayPal", "Manual", "Cash")
