"""Validate real HTTP responses against BigCommerce's official OpenAPI specs.

The specs in `specs/` beside this file are verbatim copies of bigcommerce/docs (provenance in
`specs/SOURCES.md`), vendored so the suite runs anywhere without network. B2B Edition specs
`$ref` model files by raw.githubusercontent.com URL; those are rewritten to the local copies under
`specs/b2b-edition/models/` (`models/<dir>/<file>.yaml` -> `models/<dir>__<file>.yaml`), and
so are the `../../models/...` paths the split specs use, so validation never touches the network.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx2
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPECS_DIR = Path(__file__).resolve().parent / "specs"
_RAW_MODELS = "https://raw.githubusercontent.com/bigcommerce/docs/main/docs/b2b-edition/models/"

_SPEC_HOSTS = {
    "orders.v2.oas2.yml": ("https://api.bigcommerce.com", "/stores/store_hash/v2"),
    "orders.v3.yml": ("https://api.bigcommerce.com", "/stores/store_hash/v3"),
    "webhooks.v3.yml": ("https://api.bigcommerce.com", "/stores/store_hash/v3"),
}
"""Host and path prefix of each spec's server; B2B specs are read from their `servers` entry."""


def _localise_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                _local_model_uri(value)
                if key == "$ref" and isinstance(value, str)
                else _localise_refs(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_localise_refs(item) for item in node]
    return node


_RELATIVE_MODELS = "../../models/"
"""How the split B2B specs refer to the same model files relative to their original folder."""


def _local_model_uri(ref: str) -> str:
    for prefix in (_RAW_MODELS, _RELATIVE_MODELS):
        if ref.startswith(prefix):
            break
    else:
        return ref
    relative, _, fragment = ref.removeprefix(prefix).partition("#")
    local = SPECS_DIR / "b2b-edition" / "models" / relative.replace("/", "__")
    return local.as_uri() + (f"#{fragment}" if fragment else "")


@functools.cache
def load_spec(name: str) -> tuple[OpenAPI, str, str]:
    """The parsed spec `name` (relative to the specs folder) with its server host and prefix."""
    path = SPECS_DIR / name
    data = _localise_refs(yaml.safe_load(path.read_text()))
    if name in _SPEC_HOSTS:
        host, prefix = _SPEC_HOSTS[name]
    else:
        server = urlsplit(data["servers"][0]["url"])
        host, prefix = f"{server.scheme}://{server.netloc}", server.path.rstrip("/")
    # Some official specs are not themselves valid OpenAPI (e.g. an array parameter with
    # `default: 1` in the B2B orders spec); responses are still checked against their schemas.
    config = Config(spec_validator_cls=None)
    return OpenAPI.from_dict(data, base_uri=path.as_uri(), config=config), host, prefix


@dataclass
class _Request:
    host_url: str
    path: str
    method: str
    query: list[tuple[str, str]]
    body: bytes | None = None
    content_type: str = "application/json"
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(self.query), header=Headers(), cookie=ImmutableMultiDict()
        )

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


@dataclass
class _Response:
    status_code: int
    headers: Mapping[str, str]
    data: bytes | None
    content_type: str


class SpecViolation(AssertionError):
    """A response that does not conform to the official spec."""


@dataclass(frozen=True)
class Tolerance:
    """A validator complaint accepted at a location: both patterns must match."""

    location: re.Pattern[str]
    message: re.Pattern[str]


@dataclass(frozen=True)
class Deviation:
    """A documented, deliberate difference between the sandbox and an official spec.

    Each one is listed in docs/sandbox.md with its reason. `adapt` rewrites a success body into
    the spec's shape before validation; `tolerate` accepts specific complaints at specific
    locations. Everything else the validator says still fails the test.
    """

    spec_prefix: str
    method: str
    path: re.Pattern[str]
    reason: str
    adapt: Callable[[Any], Any] | None = None
    tolerate: tuple[Tolerance, ...] = ()
    empty_204: bool = False
    """Accept `204 No Content` with an empty body where the spec documents another answer."""


def _tolerate(location: str, message: str) -> Tolerance:
    return Tolerance(re.compile(location), re.compile(message))


def _wrap_detail(body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("data"), dict) and body.get("code") == 200:
        return {**body, "data": [body["data"]]}
    return body


ANY_PATH = re.compile(r".*")
ANY_METHOD = "*"
KNOWN_DEVIATIONS = (
    Deviation(
        "orders.v2.oas2.yml",
        "GET",
        ANY_PATH,
        "bigcommerce-api.md §0: an empty V2 collection (or a page past the end) is 204 with an "
        "empty body; the spec documents 200 with an array (orders) or a 204 with content "
        "(shipments).",
        empty_204=True,
    ),
    Deviation(
        "orders.v2.oas2.yml",
        ANY_METHOD,
        ANY_PATH,
        "The order's `consignments` and a consignment's `line_items` are `oneOf` two schemas "
        "without required properties, so every value matches both and fails `oneOf`; the "
        "expanded consignments are validated on `GET /orders/{id}/consignments`.",
        tolerate=(
            _tolerate(
                r"^(\d+/)?consignments(/.*)?$|^(\d+/)?shipping/\d+/line_items$",
                r"^.* is valid under each of ",
            ),
        ),
    ),
    Deviation(
        "b2b-edition/order__order.yaml",
        "GET",
        re.compile(r"^/orders/\d+$"),
        "bigcommerce-api.md §0: the order detail `data` is an object (the spec says array).",
        adapt=_wrap_detail,
    ),
    Deviation(
        "b2b-edition/",
        ANY_METHOD,
        ANY_PATH,
        "An empty list has `data: []`, and real records have empty strings (no street2, no "
        "external id) where schemas declare `minItems`/`minLength` 1.",
        tolerate=(
            _tolerate(r"^data$", r"^\[\] should be non-empty$"),
            _tolerate(r".*", r"^'' (should be non-empty|is too short)$"),
        ),
    ),
    Deviation(
        "b2b-edition/",
        ANY_METHOD,
        ANY_PATH,
        "The shared pagination model makes its documented bounds exclusive, so `limit` 1 and "
        "250 (the documented minimum and maximum) fail its schema.",
        tolerate=(
            _tolerate(
                r"^meta/pagination/limit$",
                r"^(1 is less than or equal to the minimum of 1"
                r"|250 is greater than or equal to the maximum of 250)$",
            ),
        ),
    ),
    Deviation(
        "b2b-edition/order__order.yaml",
        ANY_METHOD,
        ANY_PATH,
        "`cartId` is typed integer but BigCommerce cart ids are UUID strings.",
        tolerate=(
            _tolerate(
                r"^data(/\d+)?/cartId$",
                r"^'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' "
                r"is not of type 'integer'$",
            ),
        ),
    ),
    Deviation(
        "b2b-edition/company__company.yaml",
        ANY_METHOD,
        ANY_PATH,
        "Company `createdAt`/`updatedAt` are unix seconds as strings (§5.5); the spec's "
        "`format: time` rejects them.",
        tolerate=(_tolerate(r"^data(/\d+)?/(createdAt|updatedAt)$", r"^'\d+' is not a 'time'$"),),
    ),
)


def assert_response_conforms(spec: str, method: str, path: str, response: httpx2.Response) -> None:
    """Fail with the validator's explanation unless `response` conforms to `spec`.

    `path` is relative to the spec's server, e.g. `/orders/100` for V2 or `/invoices` for the
    combined invoice-management spec (whose server already ends in `/ip`); query parameters are
    taken from the response's request.
    """
    openapi, host, prefix = load_spec(spec)
    deviations = [
        deviation
        for deviation in KNOWN_DEVIATIONS
        if spec.startswith(deviation.spec_prefix)
        and deviation.method in (ANY_METHOD, method.upper())
        and deviation.path.match(path)
    ]
    body = response.content or None
    if response.status_code == 204 and body is None and any(d.empty_204 for d in deviations):
        return
    for deviation in deviations:
        if deviation.adapt is not None and body is not None:
            body = json.dumps(deviation.adapt(json.loads(body))).encode()
    request = _Request(
        host_url=host,
        path=prefix + path,
        method=method.lower(),
        query=parse_qsl(response.request.url.query.decode(), keep_blank_values=True),
        body=response.request.content or None,
    )
    media_type = response.headers.get("content-type", "application/json").split(";")[0].strip()
    wrapped = _Response(
        status_code=response.status_code,
        headers=dict(response.headers.items()),
        data=body,
        content_type=media_type,
    )
    tolerated = [tolerance for deviation in deviations for tolerance in deviation.tolerate]
    errors = [
        error
        for error in openapi.iter_response_errors(request, wrapped)
        if not _only_tolerated(error, tolerated)
    ]
    if errors:
        details = "; ".join(_describe(error) for error in errors)
        raise SpecViolation(
            f"{method.upper()} {path} -> {response.status_code} does not conform to {spec}: "
            f"{details}"
        )


def _schema_errors(error: BaseException) -> list[Any]:
    found: list[Any] = []
    current: BaseException | None = error
    while current is not None:
        found.extend(getattr(current, "schema_errors", ()) or ())
        current = current.__cause__
    return found


def _only_tolerated(error: BaseException, tolerated: list[Tolerance]) -> bool:
    leaves = _schema_errors(error)
    return bool(leaves and tolerated) and all(
        any(
            tolerance.location.match("/".join(map(str, leaf.absolute_path)))
            and tolerance.message.match(leaf.message)
            for tolerance in tolerated
        )
        for leaf in leaves
    )


def _describe(error: Exception) -> str:
    causes = [error]
    current: BaseException | None = error.__cause__
    while current is not None:
        causes.append(current)  # type: ignore[arg-type]
        current = current.__cause__
    parts = [f"{type(cause).__name__}: {cause}" for cause in causes]
    for cause in causes:
        for sub in getattr(cause, "schema_errors", ()) or ():
            parts.append(f"{'/'.join(map(str, sub.absolute_path)) or '<root>'}: {sub.message}")
    return " <- ".join(parts)


def conforms(spec: str, method: str, path: str, response: httpx2.Response) -> Any:
    """Assert `response` conforms to `spec` (allowing documented deviations); return its JSON."""
    assert_response_conforms(spec, method, path, response)
    return response.json() if response.content else None
