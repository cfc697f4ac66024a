"""Recording: walk the source folders, quick-check what is known, read and examine new files, record them."""
