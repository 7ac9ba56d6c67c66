"""Scheduled jobs: one module per job, each exposing `run(stores, now) -> JobResult`.

`openloc.jobs.registry.SCHEDULES` lists them with their times; the CDK app (EventBridge rules),
the local scheduler, the export Lambda handler and the CLI all read that one registry.
"""
