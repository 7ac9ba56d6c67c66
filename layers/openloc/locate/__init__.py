"""Pure locate logic: the query, the station sources and the searcher that combines them."""
