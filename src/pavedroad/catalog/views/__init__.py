"""The catalog's pages in the portal (routes in ``routes``, tabs in ``tabs``)."""
