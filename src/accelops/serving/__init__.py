"""Serving variants of a trained model: runners per device / precision / runtime, the accelerator
benchmark (latency, throughput, memory, accuracy delta, cost), the recommendation, and the scorer
the serving path uses."""
