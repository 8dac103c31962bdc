"""Instructor and maintainer tools, kept apart from what the lessons import.

- ``python -m course_tools.slides``: the offline slide decks;
- ``python -m course_tools.bench``: the speed benchmark;
- ``python -m course_tools.verify``: the claims matrix.
"""
