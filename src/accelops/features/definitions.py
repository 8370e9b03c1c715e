"""Feast definitions for accelops (the default when params.yaml sets no `paths.feature_repo`): the
`features` section turned into Feast objects. A project with its own definitions copies this file
into a folder named by `paths.feature_repo` and edits it; the signature stays.

Definitions only: an entity, a file source, one feature view per group of features with a shared
meaning (each with its own TTL), and a versioned feature service over all of them. Names, columns
and TTLs come from params.yaml (`features.views`) through `accelops.features.store`, which builds
the store configuration (registry and online store under the git-ignored workdir) and calls
`definitions(...)`; nothing here reads files or touches the network at import time.
"""

from __future__ import annotations

from datetime import timedelta


def definitions(*, project: str, entity: str, join_key: str, source_path: str, timestamp_field: str,
                views: dict[str, dict], numeric: list[str], categorical: list[str], feature_service: str) -> list:
    """views: {name: {"ttl_days": int, "features": [...], "description": str}}."""
    from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64, String

    customer = Entity(name=entity, join_keys=[join_key], value_type=ValueType.INT64,
                      description=f"The {entity} of {project}, joined on {join_key}")
    source = FileSource(name=f"{project}_features_source", path=source_path, timestamp_field=timestamp_field,
                        description="Validated, PII-free feature table written by the features stage")
    dtype = {**{c: Float64 for c in numeric}, **{c: String for c in categorical}}
    feature_views = [
        FeatureView(
            name=name,
            entities=[customer],
            ttl=timedelta(days=spec["ttl_days"]),
            schema=[Field(name=f, dtype=dtype[f]) for f in spec["features"]],
            source=source,
            online=True,
            description=spec.get("description", ""),
            tags={"project": project, "pii": "none"},
        )
        for name, spec in views.items()
    ]
    service = FeatureService(name=feature_service, features=feature_views,
                             description=f"Features the {project} model is trained and served on")
    return [customer, source, *feature_views, service]
