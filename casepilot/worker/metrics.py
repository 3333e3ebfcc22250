"""``casepilot worker --metrics-port``: the workers' Prometheus metrics.

What a worker exposes: its jobs (picked, finished, handed back, failed, by kind), how long a
due job waited for a worker (pick-up latency) and how long it ran, the queue's depth; and
what ``casepilot serve`` exposes on ``/metrics`` — the loop's counters (steps, verdicts, tool
calls, LLM use: ``casepilot.agent.metrics``, fed by the steps this worker commits) and the
inbox gauges read from the store at scrape time.

With ``--processes N`` the workers are forked children of one supervisor, and a scraper must
not have to find N changing ports. So the counters use prometheus_client's multiprocess mode:
every process writes its values to memory-mapped files in one folder of the supervisor's
(``PROMETHEUS_MULTIPROC_DIR``, set before prometheus_client is imported, since the library
chooses how values are kept when it is imported), and one HTTP endpoint — a small child of
the supervisor, forked like the workers — sums them when scraped. A worker that dies keeps
its counts in the sum (its file stays), so counters never go back when a worker is replaced.
With one process the endpoint is a thread of the worker, over its own registries.

The endpoint answers ``GET /metrics`` (any path, as Prometheus' own client does) with no
authentication: bind it to an address only the scraper reaches (the default is 127.0.0.1);
the figures name no case or person.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

from casepilot.agent import metrics as agent_metrics
from casepilot.worker import jobs

__all__ = ["REGISTRY", "MetricsServer", "QueueCollector", "exposition", "observe_job"]

REGISTRY = CollectorRegistry(auto_describe=True)
"""The workers' job metrics (the loop's are in ``casepilot.agent.metrics.REGISTRY``)."""

_LABEL = ["kind"]
JOBS_PICKED = Counter("casepilot_worker_jobs_picked", "Jobs a worker took from the queue, by kind",
                      _LABEL, registry=REGISTRY)
JOBS_FINISHED = Counter("casepilot_worker_jobs_finished", "Jobs that ended done, by kind", _LABEL, registry=REGISTRY)
JOBS_HANDED_BACK = Counter("casepilot_worker_jobs_handed_back", "Jobs given back to the queue to run again (the "
                           "case busy in another worker, a stopping worker, a lost race), by kind",
                           _LABEL, registry=REGISTRY)
JOBS_FAILED = Counter("casepilot_worker_jobs_failed", "Jobs that raised an error (held in the queue as failed), "
                      "by kind", _LABEL, registry=REGISTRY)
PICKUP = Histogram("casepilot_worker_job_pickup_seconds", "From when a job was due (enqueued, or its delay over) "
                   "to when a worker took it, by kind", _LABEL, registry=REGISTRY,
                   buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
RUN = Histogram("casepilot_worker_job_run_seconds", "How long a worker worked a job, by kind", _LABEL,
                registry=REGISTRY, buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900))

OUTCOMES = {"finished": JOBS_FINISHED, "handed_back": JOBS_HANDED_BACK, "failed": JOBS_FAILED}


def kind(entrypoint: str) -> str:
    """The label of a job's entrypoint: ``casepilot.run_case`` → ``run_case``."""
    return entrypoint.removeprefix("casepilot.")


def picked(entrypoint: str, waited: float) -> None:
    """A worker took a job that had been due for ``waited`` seconds."""
    JOBS_PICKED.labels(kind(entrypoint)).inc()
    PICKUP.labels(kind(entrypoint)).observe(waited)


def observe_job(entrypoint: str, outcome: str, took: float) -> None:
    """A job ended (``outcome``: finished, handed_back or failed) after ``took`` seconds of work."""
    OUTCOMES[outcome].labels(kind(entrypoint)).inc()
    RUN.labels(kind(entrypoint)).observe(took)


_QUEUE = text("SELECT entrypoint, status::text, count(*) FROM pgqueuer WHERE entrypoint = ANY(:kinds) "
              "GROUP BY entrypoint, status")


class QueueCollector(Collector):
    """The queue's depth by kind and status (queued, picked, failed), read when collected."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("casepilot_worker_queue_jobs", "Jobs in the queue now, by kind and status "
                                   "(queued includes those whose delay is not over)", labels=["kind", "status"])
        with self.engine.connect() as conn:
            counts = {(str(e), str(s)): int(n) for e, s, n in conn.execute(_QUEUE, {"kinds": list(jobs.ENTRYPOINTS)})}
        for entrypoint in jobs.ENTRYPOINTS:
            for status in ("queued", "picked", "failed"):
                family.add_metric([kind(entrypoint), status], counts.get((entrypoint, status), 0))
        yield family


class _Registries(Collector):
    """Several registries' metrics as one collector (this process's own values)."""

    def __init__(self, *registries: CollectorRegistry) -> None:
        self.registries = registries

    def collect(self) -> Iterator[Any]:
        for registry in self.registries:
            yield from registry.collect()


def exposition(engine: Engine, clock: Callable[[], dt.datetime], *, multiprocess_dir: str | None) -> CollectorRegistry:
    """What the endpoint serves: the job and loop metrics — this process's, or with
    ``multiprocess_dir`` every worker's summed — plus the inbox and queue gauges read from ``engine``."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir is not None:
        MultiProcessCollector(registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]  # (untyped in the library)
    else:
        registry.register(_Registries(agent_metrics.REGISTRY, REGISTRY))
    registry.register(agent_metrics.InboxCollector(engine, clock))
    registry.register(QueueCollector(engine))
    return registry


class MetricsServer:
    """The HTTP endpoint. Bound when made — a port in use is an error at start, before any worker
    is forked — and serving once ``serve`` is given the registry (in a thread or a child)."""

    def __init__(self, host: str, port: int) -> None:
        self.registry: CollectorRegistry | None = None
        self._serving = False
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                try:
                    body, status = (generate_latest(owner.registry), 200) if owner.registry is not None else (
                        b"not ready\n", 503)
                except Exception as exc:  # a scrape that cannot read the store says so; the worker goes on
                    body, status = f"collecting the metrics failed: {type(exc).__name__}\n".encode(), 503
                self.send_response(status)
                self.send_header("Content-Type", CONTENT_TYPE_LATEST if status == 200 else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # scrapes every few seconds would flood the worker's log

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def serve(self, registry: CollectorRegistry) -> None:
        """Serve ``registry`` until ``close`` (blocks: a metrics child's whole life)."""
        self.registry = registry
        self._serving = True
        self.httpd.serve_forever(poll_interval=0.5)

    def serve_in_thread(self, registry: CollectorRegistry) -> threading.Thread:
        thread = threading.Thread(target=self.serve, args=(registry,), name="casepilot-worker-metrics", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Stop serving (if it was) and give the port back; also what a forked worker does with
        the supervisor's listening socket, which only the metrics child may answer on."""
        if self._serving:
            self.httpd.shutdown()
        self.httpd.server_close()
