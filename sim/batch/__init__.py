"""Layer 6, running many replications: chunks on an executor, resumable results folders, manifests."""
