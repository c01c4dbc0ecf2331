"""The classifier process: classifying outside the service's GIL, and keeping it running."""
