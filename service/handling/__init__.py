"""Message handling: what `POST /v1/messages` and `POST /v1/classify` do, whatever the route."""
