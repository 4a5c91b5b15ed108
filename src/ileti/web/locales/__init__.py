"""Turkish catalogues of the panel, one module per area, each with a ``TR`` mapping from the
English text to its Turkish."""
