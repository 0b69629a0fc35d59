"""Detection: pure functions from a capture, the account's history and its policy to findings.

No browser, no database: the same functions judge a live capture and re-scan the archive.
The pipeline is :mod:`agent.detect.pipeline`; this package imports nothing, so that
reading settings (which need :mod:`agent.detect.config`) stays quick.
"""
