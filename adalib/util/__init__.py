"""Shared plumbing of every layer: repository paths, atomic writes, UTC instants, artifact files."""
