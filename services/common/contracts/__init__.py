"""One contract per event type: the pydantic model of its data and its version.

The publisher validates its data with the contract before it goes into the outbox, and
every consumer reads the data with the same contract. Each publisher's events are in the
module named after it; importing this package registers them all.
"""

from services.common.contracts import absence, billing, notifications, orders
from services.common.contracts.base import CONTRACTS, Contract, contract_of, register, write

__all__ = [
    "CONTRACTS",
    "Contract",
    "absence",
    "billing",
    "contract_of",
    "notifications",
    "orders",
    "register",
    "write",
]
