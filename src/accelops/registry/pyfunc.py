"""The MLflow pyfunc flavour of an accelops model (logged as "models from code": no pickle)."""

from __future__ import annotations

import mlflow.pyfunc


class AccelopsModel(mlflow.pyfunc.PythonModel):
    """Scores a frame of contract features; returns churn probabilities, on the batch variant the
    benchmark recommended (the serving folder logged with the model; fp32 torch eager without it)."""

    def load_context(self, context) -> None:
        from accelops.serving.scorer import Scorer

        self._scorer = Scorer(context.artifacts["model_dir"], context.artifacts.get("serving_dir"), mode="batch")

    @property
    def variant(self) -> str:
        """The serving variant scoring this model (e.g. teacher/treelite/fp32/cpu)."""
        return self._scorer.variant.name

    def predict(self, context, model_input, params=None):
        return self._scorer.predict_proba(model_input)
