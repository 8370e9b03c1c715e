"""Feature table build and the Feast feature-store wrapper."""
