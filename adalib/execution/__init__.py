"""The execution layer (CONTRACT.md section 4): the model's signal traded on Binance USDT-M,
never twice, never unverified, never unjournaled.

- ``params``: ``ExecutionParams`` and their validation;
- ``decision``: the pure decision (target quantity, intended position, orders, client ids, stop price);
- ``lock``: one run at a time per account and symbol;
- ``account``: the checks before any order, and what the journal remembers of a candle;
- ``reconcile``: orders against the exchange (unknown outcomes, unfilled and partial fills, the stop);
- ``run``: ``run_execution``, one run end to end; ``python -m adalib.execution`` is its command line;
- ``replay``: the execution driven over historical candles against the local exchange, beside the backtest;
- ``research``: what the research notebooks found, read from their metrics files.

>>> from adalib.execution import ExecutionParams
>>> ExecutionParams(mode="testnet").url()
'https://demo-fapi.binance.com'
"""

from adalib.execution.decision import (
    Account,
    Decision,
    PlannedOrder,
    Signal,
    after_close,
    client_order_id,
    decide,
    intended_position,
    next_orders,
    plan_orders,
    reversal_candles,
    signal_from,
    stop_price,
    target_quantity,
)
from adalib.execution.demo import demo_folder
from adalib.execution.lock import RunLock
from adalib.execution.params import ExecutionMismatch, ExecutionParams, ExecutionRefused
from adalib.execution.reconcile import LOOKUP_WINDOW, lookup_waits
from adalib.execution.replay import Replay, replay_execution
from adalib.execution.research import Findings, research_findings
from adalib.execution.run import ExecutionResult, run_execution

__all__ = [
    "LOOKUP_WINDOW",
    "Account",
    "Decision",
    "ExecutionMismatch",
    "ExecutionParams",
    "ExecutionRefused",
    "ExecutionResult",
    "Findings",
    "PlannedOrder",
    "Replay",
    "RunLock",
    "Signal",
    "after_close",
    "client_order_id",
    "decide",
    "demo_folder",
    "intended_position",
    "lookup_waits",
    "next_orders",
    "plan_orders",
    "replay_execution",
    "research_findings",
    "reversal_candles",
    "run_execution",
    "signal_from",
    "stop_price",
    "target_quantity",
]
