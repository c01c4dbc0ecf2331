"""A seeded contact-center day driving the real engine and classifier (`tidal simulate`).

| module | one responsibility |
|---|---|
| `texts.py` | pools of real message text (SGD train turns, Tidal's own training data) |
| `customers.py` | customer kinds, their pace and the plan of each conversation |
| `staffing.py` | agents: shifts, breaks, limits, skills, reading and writing speed |
| `traffic.py` | the seeded day: arrivals over the day and every conversation's plan |
| `policies.py` | routing policies as configuration (settings and workflow overrides) |
| `day.py` | the discrete-event loop: engine on a manual clock, classifier on the texts |
| `metrics.py` | waits, resolutions, load and queue from one day's observations |
| `compare.py` | several policies on the same traffic: table rows and the bench line |
| `plots.py` | PNG plots of waits, load and queue |
"""
