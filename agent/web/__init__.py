"""The HTTP side of civicwatch: health, metrics, and the clerk portal."""
