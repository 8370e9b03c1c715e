"""The MLflow pyfunc flavour of an accelops model (logged as "models from code": no pickle)."""

from __future__ import annotations

import mlflow.pyfunc


class AccelopsModel(mlflow.pyfunc.PythonModel):
    """Scores a frame of contract features; returns churn probabilities."""

    def load_context(self, context) -> None:
        from accelops.training.predict import Predictor

        self._predictor = Predictor(context.artifacts["model_dir"])

    def predict(self, context, model_input, params=None):
        return self._predictor.predict_proba(model_input)
