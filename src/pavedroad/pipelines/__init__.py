"""Standard CI/CD pipelines: one definition (``.pavedroad/pipeline.yaml``, extending the
organisation's golden pipeline), runs queued in the database and executed by workers, results
and logs in the portal, exports to Argo Workflows and GitHub Actions."""
