"""Layer 7, fitting the model to observed counts."""
