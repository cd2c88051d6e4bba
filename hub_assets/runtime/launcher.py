"""``HubRunLauncher``: Dagster's default run launcher, with a worker health check so that run
monitoring can find dead runs.

Dagster's run monitoring daemon asks the launcher whether a STARTED run's worker is healthy;
``DefaultRunLauncher`` cannot say, so monitoring never fails a run whose process was killed and
its pool slots stay claimed. This launcher answers from the worker's pid
(``hub_assets.runtime.workers``): gone means FAILED, and run monitoring then marks the run
failed (``max_resume_run_attempts`` is 0: the run is not resumed) and its slot sweeper
(``free_slots_after_run_end_seconds``) frees the run's slots. Launching and terminating are
unchanged. A worker on another host cannot be judged from here and is reported RUNNING, so there
the run's ``max_runtime_seconds`` is the backstop.
"""

from __future__ import annotations

from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus

from hub_assets.runtime.workers import is_alive, worker_of


class HubRunLauncher(DefaultRunLauncher):
    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run) -> CheckRunHealthResult:
        worker = worker_of(self._instance, run)
        # Monitoring fails a run on any status but RUNNING or SUCCESS, so "cannot tell" (no
        # worker recorded yet, or one on another host) must be RUNNING.
        if worker is None:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no run worker recorded yet")
        alive = is_alive(worker)
        if alive is False:
            return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker {worker.describe()} is gone")
        return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker {worker.describe()}")
