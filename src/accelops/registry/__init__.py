"""MLflow tracking, registration and the champion/challenger promotion gate."""
