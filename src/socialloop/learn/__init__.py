"""LEARN: enrichment steps (language, sentiment, ...) behind one contract, and their pipeline."""
