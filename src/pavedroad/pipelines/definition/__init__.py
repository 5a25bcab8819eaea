"""The pipeline definition: ``.pavedroad/pipeline.yaml`` read, merged with the golden pipeline,
resolved into a :class:`~pavedroad.pipelines.schemas.Pipeline`; conditions; the file's schema."""

from pavedroad.pipelines.definition.conditions import (
    ConditionError,
    ConditionFacts,
    evaluate_condition,
)
from pavedroad.pipelines.definition.json_schema import pipeline_json_schema
from pavedroad.pipelines.definition.loading import DEFAULT_FILE, golden_path, load_pipeline

__all__ = [
    "DEFAULT_FILE",
    "ConditionError",
    "ConditionFacts",
    "evaluate_condition",
    "golden_path",
    "load_pipeline",
    "pipeline_json_schema",
]
