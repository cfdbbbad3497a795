"""The threat kinds: one module each, declaring its process, record kinds and config section."""
