"""Feast definitions for accelops: the single source of truth for what the feature store holds.

Definitions only: an entity, a file source, a feature view and a versioned feature service.
Names, columns and TTL come from params.yaml through `accelops.features.store`, which builds
the store configuration (registry and online store under the git-ignored workdir) and calls
`definitions(...)`; nothing here reads files or touches the network at import time.
"""

from __future__ import annotations

from datetime import timedelta


def definitions(*, project: str, entity: str, join_key: str, source_path: str, timestamp_field: str,
                feature_view: str, numeric: list[str], categorical: list[str], ttl_days: int,
                feature_service: str) -> list:
    from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64, String

    customer = Entity(name=entity, join_keys=[join_key], value_type=ValueType.INT64,
                      description="A customer of the business")
    source = FileSource(name=f"{feature_view}_source", path=source_path, timestamp_field=timestamp_field,
                        description="Validated, PII-free feature table written by the features stage")
    view = FeatureView(
        name=feature_view,
        entities=[customer],
        ttl=timedelta(days=ttl_days),
        schema=[Field(name=c, dtype=Float64) for c in numeric] + [Field(name=c, dtype=String) for c in categorical],
        source=source,
        online=True,
        tags={"project": project, "pii": "none"},
    )
    service = FeatureService(name=feature_service, features=[view],
                             description="Features the churn model is trained and served on")
    return [customer, source, view, service]
