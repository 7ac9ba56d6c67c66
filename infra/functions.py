"""The Lambda functions and their layers: one table for the CDK app, the packaging and the cost model.

Plain Python (no CDK import): `infra/compute.py` builds the functions from it, `infra/packaging.py`
builds the layers it names, and `infra/costs.py` prices calls at the memory sizes deployed.

Layers (built by `make package` into build/layers/<name>/, the GeoIP one into build/geoip/):

    service   the openloc package and pyproject's runtime `dependencies` (every function)
    export    pyproject's `export` extra: numpy, Pillow, pmtiles (the tiles job; export only)
    geoip     the compact GeoIP files, mounted at /opt/geoip (locate only, `openloc:geoip=layer`)
"""

from __future__ import annotations

from dataclasses import dataclass

SERVICE_LAYER = "service"
EXPORT_LAYER = "export"
GEOIP_LAYER = "geoip"
# Lambda's limit for a function's code plus all its layers, unzipped (250 MiB).
UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    memory_mb: int
    timeout_seconds: int
    snap_start: bool = False
    description: str = ""
    layers: tuple[str, ...] = (SERVICE_LAYER,)
    # The package budget of this function (code + layers, unzipped), checked by `make package`.
    budget_mb: float = UNZIPPED_LIMIT_BYTES / 1e6
    # Created by the Compute construct (infra/compute.py); False: by the construct it belongs to.
    in_compute: bool = True
    # The code asset when it is another function's (default: the function's own folder).
    asset: str = ""

    @property
    def code(self) -> str:
        return self.asset or self.name

    @property
    def memory_gb(self) -> float:
        return self.memory_mb / 1024


FUNCTION_SPECS: tuple[FunctionSpec, ...] = (
    # 256 MB: a locate call mostly waits for DynamoDB, and waiting is billed per GB-s; the CPU
    # part (docs/benchmarks.md: ~1 ms a phone query on a full core) stretches ~7× at this share
    # of a vCPU and costs the same whatever the memory (infra/costs.py).
    FunctionSpec(
        "locate",
        256,
        10,
        snap_start=True,
        description="geolocate, region, search, heartbeats",
        layers=(SERVICE_LAYER, GEOIP_LAYER),
        budget_mb=80,
    ),
    # 29 s: API Gateway's integration limit; POST /v1/transfer merges up to 500 items synchronously.
    FunctionSpec(
        "submit",
        512,
        29,
        snap_start=True,
        description="geosubmit v2/v1, legacy submit, transfer",
        budget_mb=40,
    ),
    FunctionSpec("aggregate", 1024, 30, description="SQS observations -> stations, areas, datamap, stats"),
    # 1 769 MB = one full vCPU; dumps and packs are built in /tmp (EXPORT_TMP_MB).
    FunctionSpec(
        "export",
        1769,
        900,
        description="scheduled exports, dumps, packs, tiles, stats",
        layers=(SERVICE_LAYER, EXPORT_LAYER),
    ),
    # The export code again, with a role that may write the tables: the shards of a sharded
    # import or replay (infra/jobs.py). The export function itself only reads them.
    FunctionSpec(
        "bulk",
        1769,
        900,
        description="sharded cell import and archive replay",
        layers=(SERVICE_LAYER, EXPORT_LAYER),
        asset="export",
    ),
    # The origin secret's rotation (infra/origin.py creates it: only with the API behind CloudFront).
    FunctionSpec(
        "rotate",
        256,
        60,
        description="the origin secret and the distribution's X-Origin-Verify header",
        in_compute=False,
    ),
)
SPECS = {spec.name: spec for spec in FUNCTION_SPECS}
FUNCTIONS = tuple(spec.name for spec in FUNCTION_SPECS if not spec.asset)  # the code folders packaged
