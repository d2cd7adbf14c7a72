"""ADAPT: turn what was heard into decisions (exports now; metrics and reports later)."""
