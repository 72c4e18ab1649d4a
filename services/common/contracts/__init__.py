"""One contract per event type: the pydantic model of its data and its version.

The publisher validates its data with the contract before it goes into the outbox, and
every consumer reads the data with the same contract. Each publishing service's events
are in the module named after it; this package is the one place a consumer imports.
"""

from services.common.contracts.base import CONTRACTS, Contract, contract_of, register

__all__ = ["CONTRACTS", "Contract", "contract_of", "register"]
