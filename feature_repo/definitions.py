"""The demo's Feast definitions: accelops' generic ones (accelops.features.definitions), named here
by `paths.feature_repo` to show where a project's own definitions go. To customise them, copy that
module's `definitions(...)` into this file and edit it; the signature stays."""

from accelops.features.definitions import definitions

__all__ = ["definitions"]
