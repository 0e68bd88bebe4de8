"""Pure scheduling logic: series expansion in a time zone, overlap tests,
and the availability search. No Flask, no database session: callers load
the data and pass plain values in."""
