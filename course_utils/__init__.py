"""Helpers shared by the 'Autoencoders, hands-on' lessons.

Importing this package does nothing by itself: no seeding, no downloads, no plot styles.
A lesson imports the modules it needs (``from course_utils import data, plots``) and calls
``config.setup()`` once in its first code cell.
"""

__version__ = "0.1.0"
