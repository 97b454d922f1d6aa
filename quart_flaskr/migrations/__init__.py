"""Schema migrations (``NNNN_name.sql``, applied in order) and the data steps after them."""
