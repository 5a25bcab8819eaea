"""Executors: where a step's shell command runs. The built-in one is a local subprocess."""

from pavedroad.pipelines.executor.local import LocalExecutor, LocalExecutorPlugin

__all__ = ["LocalExecutor", "LocalExecutorPlugin"]
