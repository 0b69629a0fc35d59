"""Browsers and platforms: turn an account's pages into Snapshots."""
