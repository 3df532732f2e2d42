"""The demo: the main scenario, and the stand-ins for parties outside Jobbro (the payment back-office)."""
