"""Moving running cases to a newer version of their procedure (filled in below)."""
