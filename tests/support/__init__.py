"""Test support: what the test modules share, so each of them reads as a list of behaviours.

- environment: where the tests' database, files and site are (tests/conftest.py sets them first)
- client: settings for the app under test, the test client, running async helpers, logging in
- pages: readers of the HTML a person would see (headings, notices, field errors, the CSRF field)
- smtp: the real SMTP server the app sends to, its Mailbox, and readers of the emails it received
- outbox: looking at and waiting for the outbox rows the mail worker sends
- factories: accounts, documents and connections made through the real domain code
- clocks: today where the portal is, date form fields, and clocks frozen or moved ahead
"""
