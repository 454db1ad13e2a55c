"""The server-rendered HTML pages: the application form, the feedback and follow-up forms, the
development mailbox. The JSON API is in `api.routes`; both are registered in `api.main`."""
