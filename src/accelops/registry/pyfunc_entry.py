# MLflow "models from code" entry point: executed when the model is loaded.
import mlflow

from accelops.registry.pyfunc import AccelopsModel

mlflow.models.set_model(AccelopsModel())
