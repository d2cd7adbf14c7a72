"""Named, ordered schema revisions."""
