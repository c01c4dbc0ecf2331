"""The running engine: start and stop, engine thread and group commit, timers, rules, clock."""
