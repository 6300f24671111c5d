"""What a model call costs: the model's prices (USD per million tokens) applied to its token usage.

A model's own price fields win; a field left empty falls back to the static catalogue's price for the
model (apps/llm/catalogue.py), else 0. Everything is `Decimal`: the catalogue's floats are converted
through their shortest repr (`Decimal(str(2.5))`), so a priced call is exact to the cent fraction.
Token buckets are disjoint (contract 3.4): `input_tokens` excludes cache reads and writes; cache reads
are billed at the cached-input price (the input price when there is none), cache writes at the input price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .catalogue import model_profile
from .models import LlmModel

MTOK = Decimal(1_000_000)
ZERO = Decimal(0)


@dataclass(frozen=True)
class Prices:
    """USD per million tokens."""

    input: Decimal = ZERO
    output: Decimal = ZERO
    cached_input: Decimal = ZERO


def _decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def model_prices(model: LlmModel) -> Prices:
    """The prices a call of `model` is charged at (own fields, else the catalogue, else 0)."""
    cost = (model_profile(model.provider.provider_type, model.model_id) or {}).get("cost") or {}

    def price(own: object, catalogue_key: str) -> Decimal | None:
        value = _decimal(own)
        return value if value is not None else _decimal(cost.get(catalogue_key))

    input_price = price(model.input_price_per_mtok, "input") or ZERO
    cached = price(model.cached_input_price_per_mtok, "cache_read")
    return Prices(
        input=input_price,
        output=price(model.output_price_per_mtok, "output") or ZERO,
        cached_input=input_price if cached is None else cached,
    )


def call_cost(prices: Prices, usage: dict | None) -> Decimal:
    """The USD cost of one call's `usage` (TokenUsage keys) at `prices`, exact."""
    usage = usage or {}
    micro = (
        prices.input * (int(usage.get("input_tokens") or 0) + int(usage.get("cache_creation_tokens") or 0))
        + prices.output * int(usage.get("output_tokens") or 0)
        + prices.cached_input * int(usage.get("cache_read_tokens") or 0)
    )
    return micro / MTOK
