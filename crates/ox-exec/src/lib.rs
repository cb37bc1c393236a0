//! Running commands as tracked runs: the `ox run` supervisor, resource sampling, executors.
