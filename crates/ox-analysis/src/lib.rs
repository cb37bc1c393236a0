//! Statistics over runs: grouping seeds, intervals, significance tests, importance and diagnostics.
