"""The model registry (approved versions and their records) and training."""
