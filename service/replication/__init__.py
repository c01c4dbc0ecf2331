"""Replication: one writer per database; replicas forward to it and take over when it stops."""
