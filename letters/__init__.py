"""Recommendation and rejection letters: templates, numbering, PDF, verification (coming)."""
