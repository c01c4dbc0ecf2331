"""Tidal: an engine for contact-center messaging.

The one installed name. Its parts live in the repository's top-level folders and are
linked here, so the repository reads by responsibility while nothing but `tidal`
enters a user's environment:

- `tidal.engine` (`engine/`): the domain, pure, with the clock injected, and the
  intent classifier;
- `tidal.service` (`service/`): the HTTP service, the desk and the `tidal` command;
- `tidal.training` (`training/`): data, training and evaluation of the intent models;
- `tidal.simulation` (`simulation/`): a simulated contact-center day on the real engine.
"""
