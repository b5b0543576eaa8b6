"""Digests of record buckets, computed the same way by a source and its target.

A record is hashed over its key and the fields the target stores; records fall
into buckets by their key, and a bucket's digest combines its records' digests.
Two platforms that hold the same records have the same bucket digests, so the
backup compares buckets first and looks at records only in buckets that differ.
"""
