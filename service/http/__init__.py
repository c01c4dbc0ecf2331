"""HTTP: the app, its routes and middleware, problem+json errors, the fast message route."""
