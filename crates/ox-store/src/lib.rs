//! Catalog of runs: the SQLite cache derived from the files under `.ox/`, refreshed incrementally.
