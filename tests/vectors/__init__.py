"""Reference vectors of the on-disk formats (see make_vectors.py)."""
