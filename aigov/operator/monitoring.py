"""What the drift, suspension and metrics handlers share: their options and clients, carried in kopf's memo.

`install` puts a `Monitoring` in the operator's memo before kopf starts; the
startup handler opens its clients inside kopf's event loop and the cleanup
handler closes them. Objects' memos are shallow copies of the operator's, so
every handler sees the same `Monitoring`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kopf

from aigov.clients.prometheus import DEFAULT_TIMEOUT, Prometheus
from aigov.operator.cluster import WorkloadScaler
from aigov.operator.context import REGISTRY, context

OPERATOR = "aigov-operator"
"""How the operator names itself in the records it writes (`suspendedBy`)."""

_KEY = "monitoring"
_QUIET = frozenset(
    {"Handler 'gauges' succeeded.", "Handler 'suspension' succeeded.", "Timer 'suspension-recheck' succeeded."}
)


class _QuietWatchers(logging.Filter):
    """Drops kopf's success lines of the handlers that run on every AISystem event or tick."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in _QUIET


@dataclass(frozen=True)
class MonitoringOptions:
    """The `aigov operator` flags for drift checks, metrics and the Alertmanager receiver."""

    prometheus_url: str | None = None
    prometheus_timeout: float = DEFAULT_TIMEOUT
    metrics_host: str = "0.0.0.0"
    metrics_port: int | None = None
    """Serve /metrics (and /alertmanager) here; None serves nothing."""
    alertmanager_token_file: Path | None = None
    """Bearer token that `POST /alertmanager` requires; None disables the receiver."""

    def alertmanager_token(self) -> str | None:
        """The token, read from its file (stripped); None when the receiver is off."""
        if self.alertmanager_token_file is None:
            return None
        token = self.alertmanager_token_file.read_text().strip()
        if not token:
            raise ValueError(f"{self.alertmanager_token_file} is empty: the Alertmanager receiver needs a token")
        return token


@dataclass
class Monitoring:
    """The shared clients; opened by the startup handler."""

    options: MonitoringOptions
    prometheus: Prometheus | None = None
    _cluster: WorkloadScaler | None = None

    @property
    def cluster(self) -> WorkloadScaler:
        """The API client for AISystem reads and workload replicas."""
        assert self._cluster is not None, "used before the operator started"
        return self._cluster


def install(memo: kopf.Memo, options: MonitoringOptions) -> kopf.Memo:
    """`memo` with a `Monitoring` for `options`."""
    memo[_KEY] = Monitoring(options)
    return memo


def monitoring(memo: Any) -> Monitoring:
    """The `Monitoring` from a handler's `memo` kwarg."""
    found: Monitoring = memo[_KEY]
    return found


@kopf.on.startup(registry=REGISTRY)
async def open_clients(memo: Any, logger: kopf.Logger, **_: Any) -> None:
    """Connect to Prometheus (when configured) and the workload APIs."""
    mon = monitoring(memo)
    mon._cluster = WorkloadScaler(context(memo).kube.configuration)
    logging.getLogger("kopf.objects").addFilter(_QuietWatchers())
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per drift query otherwise
    if mon.options.prometheus_url:
        mon.prometheus = Prometheus(mon.options.prometheus_url, mon.options.prometheus_timeout)
        logger.info(f"drift checks query {mon.options.prometheus_url}")
    else:
        logger.warning("no --prometheus-url: drift checks report a query error instead of evaluating")


@kopf.on.cleanup(registry=REGISTRY)
async def close_clients(memo: Any, **_: Any) -> None:
    """Release the clients."""
    mon = monitoring(memo)
    if mon.prometheus is not None:
        await mon.prometheus.close()
    if mon._cluster is not None:
        mon._cluster.close()
