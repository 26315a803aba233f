"""Recommendation letters and rejection notices: templates, numbering, PDF, signature, verification.

Pure rendering and record keeping: nothing here imports Flask or ``web``; callers pass the agency
profile, session, actor and clock.
"""
