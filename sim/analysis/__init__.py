"""Layer 8, reading result tables: summaries, paired comparisons, reports and plots."""
