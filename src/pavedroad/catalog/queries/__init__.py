"""Reading the catalog: Backstage's filter language, ordering, cursors, facets and batch lookups.

``filters`` parses ``filter`` parameters and turns them into conditions and id sets;
``ordering`` orders pages and encodes cursors; ``entity_query`` plans one by-query request;
``listing`` pages through entities; ``entity_rows`` looks entities up by ref or uid;
``facet_counts`` counts entities per value and errors per location.
"""

from pavedroad.catalog.queries.entity_query import EntityQuery
from pavedroad.catalog.queries.entity_rows import EntityRow, entities_by_refs, entity_row
from pavedroad.catalog.queries.facet_counts import error_summary, facets
from pavedroad.catalog.queries.filters import FilterGroups, parse_filters
from pavedroad.catalog.queries.listing import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Page,
    count_entities,
    list_entities_page,
    query_entities,
)
from pavedroad.catalog.queries.ordering import (
    Order,
    decode_cursor,
    encode_cursor,
    parse_legacy_order,
    parse_order_field,
)
from pavedroad.catalog.queries.restriction import Restriction

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "EntityQuery",
    "EntityRow",
    "FilterGroups",
    "Order",
    "Page",
    "Restriction",
    "count_entities",
    "decode_cursor",
    "encode_cursor",
    "entities_by_refs",
    "entity_row",
    "error_summary",
    "facets",
    "list_entities_page",
    "parse_filters",
    "parse_legacy_order",
    "parse_order_field",
    "query_entities",
]
