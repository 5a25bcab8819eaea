"""The pipelines' pages in the portal: runs, a run followed live, the CI/CD entity tab, status
badges and the home page's failing pipelines (routes in ``routes``, the tab in ``tab``)."""
